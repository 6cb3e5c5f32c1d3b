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
    /// Hands a service's waiting requests to its free workers, the lanes of its queue (clients, or principals) taking turns:
    /// each turn, the first request of the lane that can go now goes, and the turn passes. A request that only some
    /// workers may take (workerId, earlier rejections) is skipped, not waited on, so it never blocks the rest; a lane whose
    /// requests all wait so is passed over. When an ordinary request finds no worker, none is free: dispatch stops.
    /// </summary>
    private void Dispatch(ServiceEntry entry)
    {
        var candidates = _dispatcher.CandidatesFor(entry);
        var queue = entry.Queue;
        var now = _time.GetTimestamp();
        var passedOver = 0;
        while (candidates.Count > 0 && queue.Next is { } lane && passedOver < queue.Lanes)
        {
            switch (TakeTurn(lane, candidates, now))
            {
                case Turn.Served:
                    passedOver = 0;
                    queue.Served(lane);
                    break;
                case Turn.NoWorkerFree:
                    return;
                default:
                    passedOver++;
                    queue.PassOver(lane);
                    break;
            }
        }
    }

    /// <summary>One lane's turn: its first request that a free worker may take goes to it.</summary>
    private Turn TakeTurn(ServiceQueue.Lane lane, IReadOnlyList<ServiceEntry> candidates, long now)
    {
        for (var node = lane.First; node is not null;)
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
                return Turn.Served;
            }
            else if (!request.IsConstrained)
            {
                return Turn.NoWorkerFree;
            }

            node = next;
        }

        return Turn.PassedOver;
    }

    private enum Turn
    {
        Served,
        PassedOver,
        NoWorkerFree,
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
            if (entry.Queue.Count > 0 && entry.Queue.Where(request => request.IsExpired(_time, now)) is { } expired)
            {
                foreach (var request in expired)
                {
                    Expire(request);
                }
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
