using Pigato.Internal;

namespace Pigato.Routing;

/// <summary>Whether clients are still there: signs of life, re-attachment of durable requests, silence.</summary>
internal sealed partial class BrokerCore
{
    private readonly TimeSpan _clientSilence;

    /// <summary>
    /// Clients that have shown they heartbeat (a <c>C, 4</c> or a hello), by identity, with when they were last heard: only
    /// these lose their queued requests when they fall silent (PIGATO-GO's and PIGATO-RUBY's clients never heartbeat).
    /// </summary>
    private readonly Dictionary<string, HeardClient> _heardClients = new(StringComparer.Ordinal);

    /// <summary>
    /// A <c>persist</c> request arrived again under its rid (its client reconnected under a new identity, or the broker
    /// restarted and read it back): from now on its replies go to the new identity, and a final reply kept meanwhile is sent
    /// at once. It runs once more only if it was not held any longer (answered, and that answer lost with the connection).
    /// </summary>
    private void Reattach(BrokerRequest request, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> service, ReadOnlySpan<byte> rid)
    {
        if (!service.SequenceEqual(request.Service.NameBytes))
        {
            Refuse(clientId, rid, PigatoErrorCodes.RequestInvalid, $"request id {request.Rid} is in use by a persist request to '{request.Service.Name}'");
            return;
        }

        Heard(clientId);
        _durable.Reattach(request, clientId);
    }

    /// <summary>A client heard under the identity its requests read back from the store carry: they are its again.</summary>
    private void ReattachOrphans(ReadOnlySpan<byte> clientId)
    {
        if (_durable.TakeOrphans(clientId) is not { } orphans)
        {
            return;
        }

        foreach (var orphan in orphans)
        {
            Reattach(orphan, clientId, orphan.Service.NameBytes, orphan.RidBytes);
        }
    }

    /// <summary>
    /// A client's sign of life; the requests read back under its identity are its again. A <paramref name="heartbeat"/>
    /// (or a hello) shows that the client heartbeats: from then on its silence counts.
    /// </summary>
    private void Heard(ReadOnlySpan<byte> clientId, bool heartbeat = false)
    {
        ReattachOrphans(clientId);

        if (PeerKey.TryGet(_heardClients, clientId, out var known))
        {
            known.LastHeard = _time.GetTimestamp();
        }
        else if (heartbeat)
        {
            _heardClients[PeerKey.Of(clientId)] = new HeardClient { LastHeard = _time.GetTimestamp() };
        }

        if (_requests.TryGetClient(clientId, out var client))
        {
            client.LastHeard = _time.GetTimestamp();
        }
    }

    /// <summary>
    /// A client that heartbeats (it sent <c>C, 4</c> or a hello) and has been silent for the liveness is gone: its queued
    /// requests would only ever be answered to nobody, so they are dropped, each with an error reply in case it is still
    /// there after all. Those at a worker finish (or expire) there. A client that never heartbeats (PIGATO-GO's and
    /// PIGATO-RUBY's) is never judged by its silence: its requests wait for their own timeout, within the memory budget.
    /// </summary>
    private void DropRequestsOfSilentClients()
    {
        var now = _time.GetTimestamp();
        List<BrokerRequest>? dropped = null;
        foreach (var request in _requests.All)
        {
            // A persist request outlives its client's connection: the client re-attaches under a new identity.
            if (request.QueueNode is not null && !request.IsDurable && _time.GetElapsedTime(request.Client.LastHeard, now) > _clientSilence
                && PeerKey.TryGet(_heardClients, request.ClientId, out _))
            {
                (dropped ??= []).Add(request);
            }
        }

        foreach (var group in (dropped ?? []).GroupBy(r => r.Client))
        {
            foreach (var request in group)
            {
                _requests.End(request, PigatoErrorCodes.ClientLost);
                _metrics?.Abandoned(PigatoErrorCodes.ClientLost);
                _output.SendError(request.ClientId, request.RidBytes, PigatoErrorCodes.ClientLost);
            }

            Log.Abandoned(_logger, PigatoErrorCodes.ClientLost, Utf8.Decode(group.First().ClientId), group.Count(), $"client silent for more than {_clientSilence.TotalSeconds:0.#} s; its queued requests dropped");
        }
    }

    /// <summary>A client silent past twice the liveness has gone: it and what it authenticated as are forgotten (it reconnects under a new identity).</summary>
    private void ForgetSilentClients()
    {
        if (_heardClients.Count == 0)
        {
            return;
        }

        var now = _time.GetTimestamp();
        foreach (var key in _heardClients.Where(p => _time.GetElapsedTime(p.Value.LastHeard, now) > _clientSilence * 2).Select(p => p.Key).ToList())
        {
            _heardClients.Remove(key);
            _authorizer.Forget(key);
            _output.ForgetPeer(System.Text.Encoding.Latin1.GetBytes(key));
        }
    }

    /// <summary>When a client identity that heartbeats was last heard from.</summary>
    private sealed class HeardClient
    {
        public long LastHeard { get; set; }
    }
}
