using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato.Routing;

/// <summary>What workers answer: partial and final replies, rejections, and replies that come too late.</summary>
internal sealed partial class BrokerCore
{
    private static readonly byte[] BusyReason = "\"ERR_WORKER_BUSY\""u8.ToArray();

    /// <summary>
    /// A partial or final reply from a worker: relayed to the request's client; a final one ends the request. The status
    /// and data of a final reply count in the worker's statistics (an error's value is its last error).
    /// </summary>
    public void WorkerReply(ReadOnlySpan<byte> identity, in MessageFields reply)
    {
        var final = reply.Kind == PigatoMessageKind.WorkerFinalReply;
        if (!TryGetRequestOfWorker(identity, reply.ClientId, reply.Rid, out var worker, out var request))
        {
            DispatchPending();
            return;
        }

        // Touched when it was found: the time it was heard is this reply's.
        request.LastActivity = worker.LastHeard;
        if (final)
        {
            CountServed(worker, request, reply.Status, reply.Data);
        }

        if (request.Cancelled)
        {
            // Its client gave up on it: nothing goes back; the final reply frees the worker's slot.
            if (final)
            {
                EndCancelled(request, worker);
            }

            return;
        }

        if (final && _durable.TryKeepFinalReply(request, reply))
        {
            _metrics?.Completed();
            _dispatcher.MarkServedBy(worker.Service);
            DispatchPending();
            return;
        }

        if (request.ReplyTo is null)
        {
            // Read back from the store and no client has re-attached yet: partials have nobody to go to.
            return;
        }

        var relayed = _output.RelayReply(request, reply);
        if (relayed == SendResult.Overflow)
        {
            _metrics?.SlowConsumer();
            EndForSlowClient(request, final);
            return;
        }

        if (relayed == SendResult.Unreachable)
        {
            _output.ReportError(PigatoErrorCodes.Unroutable, $"Reply for request {request.Rid} could not reach its client.", Utf8.Decode(request.ReplyTo));
        }

        if (final)
        {
            _requests.End(request);
            _metrics?.Completed();
            _dispatcher.MarkServedBy(worker.Service);
            DispatchPending();
        }
    }

    /// <summary>
    /// A worker gave a request back: it goes to the head of its queue and never to this worker again. A worker that
    /// rejects because it is busy (<c>ERR_WORKER_BUSY</c>: its budget is shared with other brokers) may take it later:
    /// it only counts as full until its next heartbeat says what it can take.
    /// </summary>
    public void WorkerReject(ReadOnlySpan<byte> identity, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, ReadOnlySpan<byte> reason = default)
    {
        if (TryGetRequestOfWorker(identity, clientId, rid, out var worker, out var request))
        {
            if (request.Cancelled)
            {
                EndCancelled(request, worker);
                return;
            }

            if (reason.SequenceEqual(BusyReason))
            {
                _requests.Requeue(request);
                worker.Concurrency = worker.InFlight.Count;
                _dispatcher.MarkServedBy(worker.Service);
                DispatchPending();
                return;
            }

            (request.RejectedBy ??= new HashSet<string>(StringComparer.Ordinal)).Add(worker.Key);
            worker.Rejected++;
            request.Activity?.AddEvent(new System.Diagnostics.ActivityEvent("rejected", tags: new System.Diagnostics.ActivityTagsCollection { ["pigato.worker.id"] = worker.Id }));
            _metrics?.Rejected();
            Log.Request(_logger, request.Rid, request.Service.Name, "rejected by", worker.Id);
            _requests.Requeue(request);
            _dispatcher.MarkServedBy(worker.Service);
        }

        DispatchPending();
    }

    /// <summary>
    /// A reply found its client's outbound queue full (the client reads slower than the worker answers, a long stream
    /// say): rather than a stream with holes and a final reply that never comes, the request ends for the client now with
    /// <see cref="PigatoErrorCodes.SlowConsumer"/> (queued past the bound: one message), and what the worker still sends
    /// for it is dropped (a v2 worker is told to stop; its final reply frees its slot). A request whose refused reply was
    /// its final one has ended at the broker already: only its client is told. Once per request.
    /// </summary>
    private void EndForSlowClient(BrokerRequest request, bool final)
    {
        if (request.Cancelled || request.ReplyTo is not { } client)
        {
            return;
        }

        _output.ReportError(PigatoErrorCodes.SlowConsumer, $"Reply for request {request.Rid} found its client's queue full: the request ends with {PigatoErrorCodes.SlowConsumer}.", Utf8.Decode(client));
        _output.SendError(client, request.RidBytes, PigatoErrorCodes.SlowConsumer, pastTheBound: true);
        request.Cancelled = true;
        if (request.Worker is not { } worker)
        {
            return;
        }

        if (final)
        {
            EndAtWorker(request, worker, PigatoErrorCodes.SlowConsumer);
            return;
        }

        _output.ForwardCancel(worker, request);
    }

    /// <summary>A cancelled request's worker is done with it: it ends, and the freed slot takes the next request.</summary>
    private void EndCancelled(BrokerRequest request, BrokerWorker worker) => EndAtWorker(request, worker, PigatoErrorCodes.Cancelled);

    /// <summary>A request its worker is done with ends with <paramref name="outcome"/>, and the freed slot takes the next request.</summary>
    private void EndAtWorker(BrokerRequest request, BrokerWorker worker, string outcome)
    {
        _requests.End(request, outcome);
        _dispatcher.MarkServedBy(worker.Service);
        DispatchPending();
    }

    /// <summary>A request of this client: sent under this identity, or a <c>persist</c> one re-attached to it.</summary>
    private bool TryGetRequestOfClient(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, out BrokerRequest request) =>
        _requests.TryGet(clientId, rid, out request) || (_requests.TryGetDurable(rid, out request) && clientId.SequenceEqual(request.ReplyTo));

    private bool TryGetRequestOfWorker(ReadOnlySpan<byte> identity, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, out BrokerWorker worker, out BrokerRequest request)
    {
        request = null!;
        if (!_workers.TryGet(identity, out worker))
        {
            UnknownWorker(identity);
            return false;
        }

        _workers.Touch(worker, _time.GetTimestamp());
        if (!PeerKey.TryGet(worker.InFlight, clientId, rid, out request))
        {
            if (worker.ForgetAbandoned(clientId, rid))
            {
                // The broker gave up on it past its timeout: a late reply, not a protocol violation.
                _output.ReportError(PigatoErrorCodes.WorkerTimeout, $"Late reply for request {Utf8.Decode(rid)} dropped: the broker freed it past its timeout.", worker.Id);
                return false;
            }

            ProtocolViolation(worker, $"reply for request {Utf8.Decode(rid)} that it does not hold");
            return false;
        }

        return true;
    }

    /// <summary>
    /// A request at a worker that has shown no sign of life for longer than its timeout plus a grace period: its
    /// client has given up (C_TIMEOUT), so the worker's slot and the entry are freed; a late reply is then dropped.
    /// </summary>
    private void FreeAbandonedSlots()
    {
        var now = _time.GetTimestamp();
        foreach (var worker in _workers.All)
        {
            List<BrokerRequest>? abandoned = null;
            foreach (var request in worker.InFlight.Values)
            {
                if (request.IsAbandonedAtWorker(_time, now, InFlightGrace))
                {
                    (abandoned ??= []).Add(request);
                }
            }

            foreach (var request in abandoned ?? [])
            {
                worker.RememberAbandoned(request.Key);
                _requests.End(request, PigatoErrorCodes.WorkerTimeout);
                _metrics?.Abandoned(PigatoErrorCodes.WorkerTimeout);
                Log.Abandoned(_logger, PigatoErrorCodes.WorkerTimeout, worker.Id, 1, $"request {request.Rid} held past its timeout plus {InFlightGrace.TotalSeconds:0.#} s; the worker's slot is freed");
                _dispatcher.MarkServedBy(worker.Service);
            }
        }
    }
}
