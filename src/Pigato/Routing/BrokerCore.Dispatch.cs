using Microsoft.Extensions.Logging;
using Pigato.Internal;

namespace Pigato.Routing;

/// <summary>Queued requests to workers, expiry in the queue, and the broker's own error replies.</summary>
internal sealed partial class BrokerCore
{
    /// <summary>Hands queued requests, oldest first, to available workers, for every queue marked since the last call.</summary>
    private void DispatchPending()
    {
        while (_dispatcher.TryTakePending(out var entry))
        {
            Dispatch(entry);
        }
    }

    /// <summary>
    /// A request that only some workers may take (workerId, earlier rejections) is skipped, not waited on,
    /// so it never blocks the rest of its queue.
    /// </summary>
    private void Dispatch(ServiceEntry entry)
    {
        var candidates = _dispatcher.CandidatesFor(entry);
        var node = entry.Queue.First;
        var now = _time.GetTimestamp();
        while (node is not null && candidates.Count > 0)
        {
            var next = node.Next;
            var request = node.Value;
            if (request.IsExpired(_time, now))
            {
                Expire(request);
            }
            else if (_dispatcher.Pick(candidates, request) is { } worker)
            {
                Send(request, worker, now);
            }
            else if (!request.IsConstrained)
            {
                break;
            }

            node = next;
        }
    }

    private void Send(BrokerRequest request, BrokerWorker worker, long now)
    {
        _requests.Assign(request, worker);
        request.DispatchedAt = now;
        request.CarryRemainingBudget(_time, now);
        worker.Dispatched++;
        request.Activity?.AddEvent(new System.Diagnostics.ActivityEvent("dispatched", tags: new System.Diagnostics.ActivityTagsCollection { ["pigato.worker.id"] = worker.Id }));
        switch (_output.SendRequest(worker, request))
        {
            case SendResult.Sent:
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    Log.Request(_logger, request.Rid, request.Service.Name, "dispatched to", worker.Id);
                }

                break;
            case SendResult.Queued:
                // The worker reads slower than it is sent to: it takes nothing more until its queue drains.
                worker.Backlogged = true;
                break;
            case SendResult.Overflow:
                _metrics?.SlowConsumer();
                RemoveWorker(worker, "slow consumer (outbound queue full)", sendDisconnect: true, undelivered: [request]);
                break;
            default:
                // The request goes back to the head of its queue when the worker's requests are sorted out.
                RemoveWorker(worker, "unreachable", sendDisconnect: false, undelivered: [request], vanished: true);
                break;
        }
    }

    private void ExpireQueuedRequests()
    {
        var now = _time.GetTimestamp();
        foreach (var entry in _dispatcher.Services)
        {
            for (var node = entry.Queue.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.IsExpired(_time, now))
                {
                    Expire(node.Value);
                }

                node = next;
            }
        }
    }

    /// <summary>Drops a queued request whose timeout has passed; its client fails it with C_TIMEOUT on its own.</summary>
    private void Expire(BrokerRequest request)
    {
        _requests.End(request, PigatoErrorCodes.Timeout);
        _metrics?.Expired();
        Log.Request(_logger, request.Rid, request.Service.Name, "expired in queue");
    }

    /// <summary>Ends a request with the broker's own error reply.</summary>
    private void Fail(BrokerRequest request, string code)
    {
        _requests.End(request, code);
        _metrics?.Failed(code);
        Log.Request(_logger, request.Rid, request.Service.Name, code);
        if (request.ReplyTo is { } client && !_output.SendError(client, request.RidBytes, code))
        {
            _output.ReportError(PigatoErrorCodes.Unroutable, $"Error reply {code} for request {request.Rid} could not reach its client.", Utf8.Decode(client));
        }
    }
}
