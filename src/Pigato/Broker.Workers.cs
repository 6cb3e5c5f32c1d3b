using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

public sealed partial class Broker
{
    /// <summary>
    /// Concurrency assumed for a worker until its first heartbeat says otherwise. .NET workers send
    /// their limit in an extra READY frame; the Node.js original only in heartbeats.
    /// </summary>
    private const int DefaultWorkerConcurrency = 100;

    private void OnWorkerReady()
    {
        if (TryGetWorker(out var existing))
        {
            ProtocolViolation(existing, "READY from a worker already registered");
            return;
        }

        var service = _frames[PigatoFrames.ReadyService];
        if (service.IsEmpty)
        {
            ReportError(PigatoErrorCodes.MessageLength, "READY without a service name.", PeerId());
            SendToSender(PigatoEncoder.WorkerDisconnect);
            return;
        }

        var entry = ServiceFor(service);
        entry.Registered = true;
        var status = WorkerStatus.Parse(_frames.Optional(PigatoFrames.ReadyService + 1));
        var worker = new BrokerWorker(PeerId(), _frames.Raw(0).ToArray(), entry, Options.Liveness)
        {
            Concurrency = status.Concurrency ?? DefaultWorkerConcurrency,
        };
        _workers.Add(worker.Id, worker);
        entry.Workers.Add(worker);
        Log.WorkerJoined(_logger, worker.Id, entry.Name, worker.Concurrency);
        if (!SendToPeer(worker.Identity, PigatoEncoder.WorkerReadyAnswer))
        {
            LoseWorker(worker, "unreachable");
            return;
        }

        OnWorkerSetChanged(entry);
        PublishDirectory();
        MarkServedBy(entry);
    }

    private void OnWorkerHeartbeat()
    {
        if (!TryGetWorker(out var worker))
        {
            UnknownWorker();
            return;
        }

        Touch(worker);
        var status = WorkerStatus.Parse(_frames.Optional(PigatoFrames.WorkerHeartbeatOptions));
        if (status.Concurrency is { } concurrency && concurrency != worker.Concurrency)
        {
            worker.Concurrency = concurrency;
            MarkServedBy(worker.Service);
        }

        // An answer that cannot be sent is not a reason to drop the worker and fail its requests: NetMQ has
        // been seen refusing a send to a live peer now and then (see README). A gone worker is purged by liveness.
        if (!SendToPeer(worker.Identity, PigatoEncoder.BrokerHeartbeat))
        {
            ReportError(PigatoErrorCodes.Unroutable, "Heartbeat answer could not be sent.", worker.Id);
        }

        if (status.Update && worker.Service.Name.StartsWith('$'))
        {
            PublishDirectory();
        }
    }

    private void OnWorkerReply(bool final)
    {
        if (!TryGetRequestOfWorker(out var worker, out var request))
        {
            return;
        }

        // Relay from the status frame on, unchanged and without copying: C, type, empty, rid, status, data, opts.
        var writer = _writer!;
        writer.Write(request.ClientId, true);
        writer.Write(PigatoFrames.Client, true);
        writer.Forward(ref _frames.Frame(PigatoFrames.Type), true);
        writer.Write(ReadOnlyMemory<byte>.Empty, true);
        writer.Forward(ref _frames.Frame(PigatoFrames.WorkerReplyRid), true);
        var last = _frames.Count - 1;
        for (var i = PigatoFrames.WorkerReplyStatus; i <= last; i++)
        {
            writer.Forward(ref _frames.Frame(i), i < last);
        }

        if (!writer.EndMessage())
        {
            ReportError(PigatoErrorCodes.Unroutable, $"Reply for request {request.Rid} could not reach its client.", Utf8.Decode(request.ClientId));
        }

        if (final)
        {
            worker.InFlight.Remove(request.Rid);
            worker.Served++;
            _requests.Remove(request.Rid);
            _metrics?.Completed();
            MarkServedBy(worker.Service);
        }
    }

    private void OnWorkerReject()
    {
        if (!TryGetRequestOfWorker(out var worker, out var request))
        {
            return;
        }

        worker.InFlight.Remove(request.Rid);
        request.Worker = null;
        (request.RejectedBy ??= new HashSet<string>(StringComparer.Ordinal)).Add(worker.Id);
        _metrics?.Rejected();
        Log.Request(_logger, request.Rid, request.Service.Name, "rejected by", worker.Id);
        Enqueue(request, atHead: true);
        MarkServedBy(worker.Service);
    }

    private void OnWorkerDisconnect()
    {
        if (TryGetWorker(out var worker))
        {
            RemoveWorker(worker, "disconnected", sendDisconnect: false);
        }
    }

    private void OnInvalidMessage(string code)
    {
        if (TryGetWorker(out var worker))
        {
            ProtocolViolation(worker, "malformed message (" + code + ")");
            return;
        }

        ReportError(code, "Malformed message ignored.", PeerId());
    }

    private bool TryGetWorker(out BrokerWorker worker) => Utf8.TryGetValue(_workers, _frames.Raw(0), out worker);

    private bool TryGetRequestOfWorker(out BrokerWorker worker, out BrokerRequest request)
    {
        request = null!;
        if (!TryGetWorker(out worker))
        {
            UnknownWorker();
            return false;
        }

        Touch(worker);
        if (!Utf8.TryGetValue(worker.InFlight, _frames[PigatoFrames.WorkerReplyRid], out request))
        {
            ProtocolViolation(worker, $"reply for request {Utf8.Decode(_frames[PigatoFrames.WorkerReplyRid])} that it does not hold");
            return false;
        }

        return true;
    }

    private void Touch(BrokerWorker worker)
    {
        worker.Liveness = Options.Liveness;
        worker.HeardSinceTick = true;
    }

    /// <summary>A message from a worker that is not registered: tell it to register again.</summary>
    private void UnknownWorker()
    {
        ReportError(PigatoErrorCodes.WorkerProtocol, "Message from an unregistered worker; sent DISCONNECT.", PeerId());
        SendToSender(PigatoEncoder.WorkerDisconnect);
    }

    private void ProtocolViolation(BrokerWorker worker, string what)
    {
        ReportError(PigatoErrorCodes.WorkerProtocol, $"Worker disconnected: {what}.", worker.Id);
        RemoveWorker(worker, "protocol violation", sendDisconnect: true);
    }

    private void LoseWorker(BrokerWorker worker, string reason) => RemoveWorker(worker, reason, sendDisconnect: false);

    /// <summary>
    /// Forgets a worker. Its requests with <c>retry</c> go back to the head of their queue; the others get
    /// an error reply <see cref="PigatoErrorCodes.WorkerLost"/> (the original dropped them silently).
    /// </summary>
    private void RemoveWorker(BrokerWorker worker, string reason, bool sendDisconnect)
    {
        if (!_workers.Remove(worker.Id))
        {
            return;
        }

        worker.Service.Workers.Remove(worker);
        OnWorkerSetChanged(worker.Service);
        int retried = 0, failed = 0;
        foreach (var request in worker.InFlight.Values)
        {
            request.Worker = null;
            if (request.Parsed.Retry)
            {
                Enqueue(request, atHead: true);
                retried++;
            }
            else
            {
                _requests.Remove(request.Rid);
                FailToClient(request, PigatoErrorCodes.WorkerLost);
                failed++;
            }
        }

        worker.InFlight.Clear();
        if (sendDisconnect)
        {
            SendDisconnect(worker.Identity);
        }

        Log.WorkerLeft(_logger, worker.Id, worker.Service.Name, reason, retried, failed);
        PublishDirectory();
    }
}
