using Microsoft.Extensions.Logging;
using Pigato.Internal;

namespace Pigato.Routing;

/// <summary>
/// The rules of <c>persist</c> requests at the broker: admission against the store, read-back after a restart or a
/// takeover, re-attachment to the client that sends them again, and final replies kept until their removal from the
/// store is durable or their client comes back. The broker's loop only.
/// </summary>
internal sealed class DurableRequests(RequestTable requests, Dispatcher dispatcher, IBrokerOutput output, BrokerOptions options, TimeProvider time, ILogger logger, BrokerMetrics? metrics)
{
    /// <summary>Requests read back from the store by the identity of the client that sent them, until that identity is heard again.</summary>
    private readonly Dictionary<string, List<BrokerRequest>> _orphans = new(StringComparer.Ordinal);

    /// <summary>Why a new <c>persist</c> request cannot be taken now, or null: the store cannot be written, or holds its maximum.</summary>
    public (string Code, string Detail)? Refusal() =>
        requests.Journal is { IsAvailable: false } ? (PigatoErrorCodes.StoreUnavailable, "the request store cannot be written; persist requests are refused until it is back")
        : requests.DurableCount >= options.MaxStoredRequests ? (PigatoErrorCodes.StoreFull, $"the broker holds {requests.DurableCount} persist requests (at most {options.MaxStoredRequests})")
        : null;

    /// <summary>
    /// From now on the request's replies go to <paramref name="clientId"/> (its client reconnected, or the broker read it
    /// back); a final reply kept meanwhile goes at once, or once its removal from the store is durable.
    /// </summary>
    public void Reattach(BrokerRequest request, ReadOnlySpan<byte> clientId)
    {
        request.ReplyTo = clientId.ToArray();
        metrics?.Reattached();
        if (request.ParkedReply is null || request.AwaitingRemoval)
        {
            return;
        }

        if (MustAwaitRemoval(request))
        {
            AwaitRemoval(request);
        }
        else
        {
            DeliverKeptReply(request);
        }
    }

    /// <summary>The requests read back under this client's identity that still wait for it (taken: they are its from now on).</summary>
    public List<BrokerRequest>? TakeOrphans(ReadOnlySpan<byte> clientId)
    {
        if (_orphans.Count == 0 || !PeerKey.TryGet(_orphans, clientId, out var orphans))
        {
            return null;
        }

        _orphans.Remove(PeerKey.Of(clientId));
        return orphans.Where(IsOrphan).ToList();
    }

    /// <summary>
    /// A final reply of a durable request, when the store may hold it: kept (true) until its removal is durable (a crash in
    /// between would run it again after its client was answered), or, read back and not re-attached yet, until its client comes.
    /// </summary>
    public bool TryKeepFinalReply(BrokerRequest request, in Protocol.MessageFields reply)
    {
        if (!request.IsDurable || requests.Journal is null || (request.ReplyTo is not null && !MustAwaitRemoval(request)))
        {
            return false;
        }

        requests.Park(request, output.CopyReply(reply), request.LastActivity);
        if (request.ReplyTo is not null)
        {
            AwaitRemoval(request);
        }

        return true;
    }

    /// <summary>The removals of these requests from the store are durable: their kept final replies go to their clients now.</summary>
    public void RemovalsDurable(IEnumerable<BrokerRequest> removed)
    {
        foreach (var request in removed)
        {
            if (request.AwaitingRemoval && requests.TryGet(request.ClientId, request.RidBytes, out var held) && held == request)
            {
                DeliverKeptReply(request);
            }
        }
    }

    /// <summary>
    /// Queues again the requests read back from the store, with their age kept; those already here (their client re-sent
    /// them first) or answered here lately are skipped. Returns how many were queued.
    /// </summary>
    public int Restore(IEnumerable<Persistence.StoredRequest> stored)
    {
        var now = time.GetTimestamp();
        var wallNow = time.GetUtcNow().ToUnixTimeMilliseconds();
        var restored = 0;
        foreach (var request in stored)
        {
            if (requests.TryGetDurable(request.Rid, out _) || requests.Contains(request.ClientId, request.Rid))
            {
                continue;
            }

            var age = TimeSpan.FromMilliseconds(Math.Max(0, wallNow - request.StoredAt));
            var arrivedAt = now - (long)(age.TotalSeconds * time.TimestampFrequency);
            var entry = dispatcher.ServiceFor(System.Text.Encoding.UTF8.GetBytes(request.Service));
            var parsed = BrokerRequestOptions.Parse(request.Options) with { Persist = true };
            var held = requests.Create(request.ClientId, request.Rid, entry, request.Data, request.Options, parsed, arrivedAt, storedAt: request.StoredAt, fromStore: true);
            if (requests.WasAnswered(request.Rid))
            {
                // Its client re-sent it here after the other broker died and got its answer: only its record is left to remove.
                requests.End(held, "answered");
                continue;
            }

            // A client whose connection came back under the same identity (ZeroMQ reconnects; PIGATO for Node.js keeps its
            // identity until its own liveness runs out) is found by it when it is next heard.
            var key = PeerKey.Of(request.ClientId);
            if (!_orphans.TryGetValue(key, out var orphans))
            {
                _orphans[key] = orphans = [];
            }

            orphans.Add(held);
            restored++;
        }

        return restored;
    }

    /// <summary>Final replies kept for clients that never re-attached are dropped after <see cref="BrokerOptions.KeptReplyWindow"/>, and their requests leave the store.</summary>
    public void ExpireKeptReplies()
    {
        foreach (var key in _orphans.Where(o => !o.Value.Any(IsOrphan)).Select(o => o.Key).ToList())
        {
            _orphans.Remove(key);
        }

        if (requests.KeptReplies == 0)
        {
            return;
        }

        var now = time.GetTimestamp();
        var kept = requests.All.Where(r => r.ParkedReply is not null && !r.AwaitingRemoval && time.GetElapsedTime(r.ParkedAt, now) > options.KeptReplyWindow).ToList();
        foreach (var request in kept)
        {
            requests.End(request, PigatoErrorCodes.ClientLost);
            metrics?.Abandoned(PigatoErrorCodes.ClientLost);
        }

        if (kept.Count > 0)
        {
            Log.Abandoned(logger, PigatoErrorCodes.ClientLost, "-", kept.Count, $"final replies of persist requests kept {options.KeptReplyWindow.TotalSeconds:0} s for clients that never re-attached dropped");
        }
    }

    private bool IsOrphan(BrokerRequest request) => request.ReplyTo is null && requests.TryGetDurable(request.RidBytes, out var held) && held == request;

    /// <summary>True when the store may hold the request: its final reply must wait until its removal is durable.</summary>
    private bool MustAwaitRemoval(BrokerRequest request) => requests.Journal is { IsAvailable: true } journal && journal.MayHold(request);

    /// <summary>Removes the request from the store; its kept reply goes when that is durable (<see cref="RemovalsDurable"/>).</summary>
    private void AwaitRemoval(BrokerRequest request)
    {
        request.AwaitingRemoval = true;
        requests.Journal!.RemoveBeforeReply(request);
    }

    /// <summary>Sends a request's kept final reply to its client and ends it.</summary>
    private void DeliverKeptReply(BrokerRequest request)
    {
        if (request.ReplyTo is { } client && !output.SendKeptReply(client, request, request.ParkedReply!))
        {
            output.ReportError(PigatoErrorCodes.Unroutable, $"Reply for request {request.Rid} could not reach its client.", Utf8.Decode(client));
        }

        requests.End(request);
    }
}
