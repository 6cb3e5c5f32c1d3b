using Microsoft.Extensions.Logging;
using System.Collections;

namespace Pigato.Internal;

/// <summary>
/// The broker connections of a client or worker (one per broker endpoint), with their shared start and stop. Broker
/// names (<see cref="BrokerDiscovery"/>) are looked up at start and every refresh period: a broker that appears gets a
/// connection, one that disappears has its connection closed as a lost broker's (its owner settles what it held).
/// </summary>
internal sealed class BrokerConnections : IReadOnlyList<BrokerConnection>
{
    private readonly List<BrokerConnection> _connections = [];
    private BrokerDiscovery? _discovery;
    private Func<string, BrokerConnection>? _connect;
    private Action<PigatoException>? _lookupFailed;
    private ActorLoop? _loop;
    private bool _lookingUp;

    public int Count => _connections.Count;

    public BrokerConnection this[int index] => _connections[index];

    /// <summary>
    /// Starts the loop and opens a connection for <paramref name="owner"/> to every broker of the settings: names are looked
    /// up first (a name that cannot be fails the start) and again every refresh period; a lookup that fails then is
    /// reported (<paramref name="lookupFailed"/>) and changes nothing.
    /// </summary>
    public async Task StartAsync(ActorLoop loop, ConnectionSettings settings, IBrokerConnectionOwner owner, ILogger logger, Action<PigatoException> lookupFailed, CancellationToken cancellationToken)
    {
        _connect = endpoint => new BrokerConnection(endpoint, settings, loop, owner, logger);
        var brokers = settings.Brokers;
        if (BrokerDiscovery.Resolves(brokers))
        {
            _discovery = new BrokerDiscovery(brokers, settings.DnsServer);
            brokers = await _discovery.ResolveAsync(cancellationToken).ConfigureAwait(false);
            (_lookupFailed, _loop) = (lookupFailed, loop);
            loop.Timer(settings.DnsRefreshInterval, LookUpAgain);
        }

        foreach (var endpoint in brokers)
        {
            _connections.Add(_connect(endpoint));
        }

        await loop.StartAsync().ConfigureAwait(false);
        await loop.InvokeAsync(() =>
        {
            foreach (var connection in _connections)
            {
                connection.Open();
            }
        }).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes every connection on the loop (the owner hears of each), then disposes the loop.</summary>
    public async Task StopAsync(ActorLoop? loop)
    {
        if (loop is not null)
        {
            try
            {
                await loop.InvokeAsync(() =>
                {
                    foreach (var connection in _connections)
                    {
                        connection.Dispose();
                    }

                    _connections.Clear();
                }).ConfigureAwait(false);
            }
            catch (PigatoException)
            {
                // The loop was already gone (a failed start): Release below closes the sockets.
            }
        }

        Release(loop);
    }

    /// <summary>Disposes the loop and whatever sockets are left, without a word to anyone (also after a failed start).</summary>
    public void Release(ActorLoop? loop)
    {
        loop?.Dispose();
        foreach (var connection in _connections)
        {
            connection.Abandon();
        }

        _connections.Clear();
    }

    /// <summary>Looks the broker names up again, off the loop (one lookup at a time); the answer comes back to the loop.</summary>
    private void LookUpAgain()
    {
        if (_lookingUp)
        {
            return;
        }

        _lookingUp = true;
        _ = Task.Run(async () =>
        {
            Action answer;
            try
            {
                var brokers = await _discovery!.ResolveAsync(CancellationToken.None).ConfigureAwait(false);
                answer = () => Apply(brokers);
            }
            catch (PigatoException e)
            {
                answer = () =>
                {
                    _lookingUp = false;
                    _lookupFailed!(new PigatoException(e.Code, e.Message + " The brokers found before stay in use.", e));
                };
            }

            try
            {
                _loop!.Post(answer);
            }
            catch (PigatoException)
            {
                // The owner stopped meanwhile: nothing to connect to any more.
            }
        });
    }

    /// <summary>The brokers found now: connections to new ones open, those to brokers gone close (loop thread).</summary>
    private void Apply(IReadOnlyList<string> brokers)
    {
        _lookingUp = false;
        var found = brokers.ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _connections.Where(c => !found.Contains(c.Endpoint)).ToList())
        {
            _connections.Remove(gone);
            gone.Dispose();
        }

        foreach (var endpoint in brokers.Where(b => !_connections.Any(c => c.Endpoint == b)))
        {
            var connection = _connect!(endpoint);
            _connections.Add(connection);
            connection.Open();
        }
    }

    public IEnumerator<BrokerConnection> GetEnumerator() => _connections.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Sends what each connection batched during the loop callback that just ended (loop thread).</summary>
    public void Flush()
    {
        foreach (var connection in this)
        {
            connection.Flush();
        }
    }

    /// <summary>True while some connection keeps messages in its local queue: the broker (or the kernel) takes less than is sent.</summary>
    public bool AnyBacklogged()
    {
        foreach (var connection in this)
        {
            if (connection.IsBacklogged)
            {
                return true;
            }
        }

        return false;
    }
}
