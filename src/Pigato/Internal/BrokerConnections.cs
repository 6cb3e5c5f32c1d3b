using System.Collections;

namespace Pigato.Internal;

/// <summary>The broker connections of a client or worker (one per broker endpoint), with their shared start and stop.</summary>
internal sealed class BrokerConnections : IReadOnlyList<BrokerConnection>
{
    private readonly List<BrokerConnection> _connections = [];

    public int Count => _connections.Count;

    public BrokerConnection this[int index] => _connections[index];

    public void Add(BrokerConnection connection) => _connections.Add(connection);

    /// <summary>Starts the loop, then opens every connection on it.</summary>
    public async Task StartAsync(ActorLoop loop, CancellationToken cancellationToken)
    {
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
}
