using Pigato.Internal;

namespace Pigato.Routing;

/// <summary>Workers: registration, heartbeats, leaving, misbehaving, and what the output learns of their queues.</summary>
internal sealed partial class BrokerCore
{
    public void WorkerReady(ReadOnlySpan<byte> identity, ReadOnlySpan<byte> service, ReadOnlySpan<byte> status)
    {
        if (_workers.TryGet(identity, out var existing))
        {
            ProtocolViolation(existing, "READY from a worker already registered");
            DispatchPending();
            return;
        }

        if (service.IsEmpty)
        {
            _output.ReportError(PigatoErrorCodes.MessageLength, "READY without a service name.", Utf8.Decode(identity));
            _output.SendDisconnect(identity);
            return;
        }

        var parsed = WorkerStatus.Parse(status);
        if (!_authorizer.AdmitWorker(identity, Utf8.Decode(service), parsed, out var principal))
        {
            // Logged at most once a second per code (a refused worker tries again); it hears DISCONNECT before any answer.
            _output.SendDisconnect(identity);
            return;
        }

        var entry = _dispatcher.ServiceFor(service);
        var worker = _workers.Add(identity, entry, parsed.Concurrency ?? DefaultWorkerConcurrency, _time.GetTimestamp());
        worker.Principal = principal;
        if (_joinLog.TryTake(out var joinsNotLogged))
        {
            LogNotLogged("joined", joinsNotLogged);
            Log.WorkerJoined(_logger, worker.Id, entry.Name, worker.Concurrency);
        }

        if (!_output.SendReadyAnswer(worker, parsed.Version))
        {
            RemoveWorker(worker, "unreachable", sendDisconnect: false);
            return;
        }

        _dispatcher.OnWorkerSetChanged(entry);
        _directory.Changed();
        _dispatcher.MarkServedBy(entry);
        DispatchPending();
    }

    public void WorkerHeartbeat(ReadOnlySpan<byte> identity, ReadOnlySpan<byte> status)
    {
        if (!_workers.TryGet(identity, out var worker))
        {
            UnknownWorker(identity);
            return;
        }

        _workers.Touch(worker, _time.GetTimestamp());
        var parsed = WorkerStatus.Parse(status);
        if (parsed.Concurrency is { } concurrency && concurrency != worker.Concurrency)
        {
            worker.Concurrency = concurrency;
            _dispatcher.MarkServedBy(worker.Service);
        }

        // An answer that cannot be sent is not a reason to drop the worker and fail its requests: a gone
        // worker is purged by liveness.
        if (!_output.SendWorkerHeartbeat(worker))
        {
            _output.ReportError(PigatoErrorCodes.Unroutable, "Heartbeat answer could not be sent.", worker.Id);
        }

        if (parsed.Update && worker.Service.Name.StartsWith('$'))
        {
            // A core service in another process (a DirectoryService) asks for a fresh publication.
            _directory.Changed();
        }

        DispatchPending();
    }

    public void WorkerDisconnect(ReadOnlySpan<byte> identity)
    {
        if (_workers.TryGet(identity, out var worker))
        {
            RemoveWorker(worker, "disconnected", sendDisconnect: false);
            DispatchPending();
        }
    }

    /// <summary>A message that failed decoding: a registered worker sending it is disconnected; anyone else is reported.</summary>
    public void InvalidMessage(ReadOnlySpan<byte> identity, string code)
    {
        if (_workers.TryGet(identity, out var worker))
        {
            ProtocolViolation(worker, "malformed message (" + code + ")");
            DispatchPending();
            return;
        }

        _output.ReportError(code, "Malformed message ignored.", Utf8.Decode(identity));
    }

    /// <summary>A worker sent a message larger than <see cref="BrokerOptions.MaxMessageSize"/>: it is disconnected, and a reply too large to relay fails its request.</summary>
    public void WorkerOversized(ReadOnlySpan<byte> identity, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, int messageSize)
    {
        if (!_workers.TryGet(identity, out var worker))
        {
            UnknownWorker(identity);
            return;
        }

        // Reported before the client is answered, so that whoever watches the broker's errors has seen it by then.
        _output.ReportError(PigatoErrorCodes.MessageTooLarge, $"Worker disconnected: message of {messageSize} bytes (at most {_options.MaxMessageSize}).", worker.Id);
        if (!clientId.IsEmpty && PeerKey.TryGet(worker.InFlight, clientId, rid, out var request))
        {
            Fail(request, PigatoErrorCodes.MessageTooLarge);
        }

        RemoveWorker(worker, "message too large", sendDisconnect: true);
        DispatchPending();
    }

    /// <summary>A message too large from a peer that is not a registered worker and cannot be answered: reported.</summary>
    public void Oversized(ReadOnlySpan<byte> identity, int messageSize) =>
        _output.ReportError(PigatoErrorCodes.MessageTooLarge, $"Message of {messageSize} bytes discarded (at most {_options.MaxMessageSize}).", Utf8.Decode(identity));

    /// <summary>What waited for a peer has been sent: a worker is no longer busy.</summary>
    public void PeerDrained(byte[] identity)
    {
        if (_workers.TryGet(identity, out var worker) && worker.Backlogged)
        {
            worker.Backlogged = false;
            _dispatcher.MarkServedBy(worker.Service);
            DispatchPending();
        }
    }

    /// <summary>Requests sent to a worker in a batch went into its outbound queue (its pipe is full): it takes nothing more until that drains.</summary>
    public void PeerBacklogged(byte[] identity)
    {
        if (_workers.TryGet(identity, out var worker))
        {
            worker.Backlogged = true;
        }
    }

    /// <summary>
    /// A peer with messages waiting is gone: a worker's requests are re-queued or failed, but those it never received
    /// (<paramref name="undelivered"/>: a v2 batch that could not be sent) go back to their queue, as with v1.
    /// </summary>
    public void PeerGone(byte[] identity, IReadOnlyCollection<BrokerRequest>? undelivered = null)
    {
        if (_workers.TryGet(identity, out var worker))
        {
            RemoveWorker(worker, "unreachable", sendDisconnect: false, undelivered, vanished: true);
            DispatchPending();
        }
    }

    /// <summary>
    /// A peer's queue refused a batch (<paramref name="undelivered"/>: the requests it carried or answered), or the peer
    /// read nothing of what waited for it for too long (its queue is dropped). A worker is disconnected, its requests
    /// re-queued or failed; each request a refused batch answered ends for its client with
    /// <see cref="PigatoErrorCodes.SlowConsumer"/>, as a refused v1 reply does.
    /// </summary>
    public void SlowConsumer(byte[] identity, int dropped, IReadOnlyCollection<BrokerRequest>? undelivered = null)
    {
        _metrics?.SlowConsumer();
        var peer = Utf8.Decode(identity);
        Log.Abandoned(_logger, "SLOW_CONSUMER", peer, dropped, "messages dropped: its queue was full, or waited longer than the slow-consumer timeout");
        if (_workers.TryGet(identity, out var worker))
        {
            RemoveWorker(worker, "slow consumer", sendDisconnect: true, undelivered);
            DispatchPending();
            return;
        }

        foreach (var request in undelivered ?? [])
        {
            // The requests a refused batch answered (a batch to a worker it no longer knows carried requests: those were re-queued with it).
            if (identity.AsSpan().SequenceEqual(request.ReplyTo))
            {
                EndForSlowClient(request, final: false);
            }
        }
    }

    /// <summary>A message from a worker that is not registered: tell it to register again.</summary>
    private void UnknownWorker(ReadOnlySpan<byte> identity)
    {
        _output.ReportError(PigatoErrorCodes.WorkerProtocol, "Message from an unregistered worker; sent DISCONNECT.", Utf8.Decode(identity));
        _output.SendDisconnect(identity);
    }

    private void ProtocolViolation(BrokerWorker worker, string what)
    {
        _output.ReportError(PigatoErrorCodes.WorkerProtocol, $"Worker disconnected: {what}.", worker.Id);
        RemoveWorker(worker, "protocol violation", sendDisconnect: true);
    }

    /// <summary>
    /// Forgets a worker. Its requests with <c>retry</c> or <c>persist</c> (and <paramref name="undelivered"/>, which it
    /// never received) go back to the head of their queue; the others get the error reply
    /// <see cref="PigatoErrorCodes.WorkerLost"/> (the original dropped them silently). A worker that <paramref name="vanished"/>
    /// (silent, or gone from under a send: a crash) counts against the requests it held: one held by
    /// <see cref="BrokerOptions.MaxWorkersLostPerRequest"/> such workers is quarantined instead of re-queued.
    /// </summary>
    private void RemoveWorker(BrokerWorker worker, string reason, bool sendDisconnect, IReadOnlyCollection<BrokerRequest>? undelivered = null, bool vanished = false)
    {
        if (!_workers.Remove(worker))
        {
            return;
        }

        _dispatcher.OnWorkerSetChanged(worker.Service);
        int retried = 0, failed = 0;
        foreach (var request in worker.InFlight.Values.ToList())
        {
            if (request.Cancelled)
            {
                // Its client gave up on it: never retried.
                _requests.End(request, PigatoErrorCodes.Cancelled);
            }
            else if (undelivered is not null && undelivered.Contains(request))
            {
                // It never reached the worker: it goes back as it was.
                _requests.Requeue(request);
                retried++;
            }
            else if (request.Parsed.Retry || request.IsDurable)
            {
                // A persist request is at least once: it runs again elsewhere, as with retry (unless it keeps killing workers).
                if (vanished && IsPoison(request))
                {
                    Quarantine(request, worker);
                    failed++;
                    continue;
                }

                request.Activity?.AddEvent(new System.Diagnostics.ActivityEvent("retried"));
                _requests.Requeue(request);
                retried++;
            }
            else
            {
                Fail(request, PigatoErrorCodes.WorkerLost);
                failed++;
            }
        }

        _output.ForgetPeer(worker.Identity);
        if (sendDisconnect)
        {
            _output.SendDisconnect(worker.Identity);
        }

        if (_leaveLog.TryTake(out var leavesNotLogged))
        {
            LogNotLogged("left", leavesNotLogged);
            Log.WorkerLeft(_logger, worker.Id, worker.Service.Name, reason, retried, failed);
        }

        _directory.Changed();
    }

    /// <summary>Counts the loss of the worker holding a request; true when that makes it poison.</summary>
    private bool IsPoison(BrokerRequest request)
    {
        _requests.WorkerLost(request);
        return _options.MaxWorkersLostPerRequest > 0 && request.WorkersLost >= _options.MaxWorkersLostPerRequest;
    }

    /// <summary>A request whose workers keep being lost is failed with <see cref="PigatoErrorCodes.Poison"/>, logged, counted and listed.</summary>
    private void Quarantine(BrokerRequest request, BrokerWorker worker)
    {
        _metrics?.Poisoned();
        _poisoned.Add(request, _time.GetUtcNow());
        Log.Poisoned(_logger, request.Rid, request.Service.Name, Utf8.Decode(request.ClientId), request.Data.Length, request.WorkersLost, worker.Id);
        Fail(request, PigatoErrorCodes.Poison);
    }
}
