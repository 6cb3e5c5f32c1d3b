using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using NetMQ;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

public sealed partial class Broker
{
    private static readonly byte[] DirectoryTopic = "$dir "u8.ToArray();
    private readonly List<ServiceEntry> _dispatchList = [];
    private readonly ServiceResolver _resolver = new();
    private readonly List<BrokerWorker> _candidates = [];

    private ServiceEntry ServiceFor(ReadOnlySpan<byte> name)
    {
        if (!Utf8.TryGetValue(_services, name, out var entry))
        {
            entry = new ServiceEntry(Utf8.Decode(name));
            _services.Add(entry.Name, entry);
        }

        return entry;
    }

    private void Enqueue(BrokerRequest request, bool atHead)
    {
        var queue = request.Service.Queue;
        request.QueueNode = atHead ? queue.AddFirst(request) : queue.AddLast(request);
        MarkQueue(request.Service);
    }

    /// <summary>Notes that a queue may now be served; the work is done once per message in <see cref="DispatchPending"/>.</summary>
    private void MarkQueue(ServiceEntry requested)
    {
        if (!requested.DispatchPending && requested.Queue.Count > 0)
        {
            requested.DispatchPending = true;
            _dispatchList.Add(requested);
        }
    }

    /// <summary>A worker of <paramref name="registered"/> may have room: mark every queue it serves.</summary>
    private void MarkServedBy(ServiceEntry registered)
    {
        foreach (var requested in registered.Dependents)
        {
            MarkQueue(requested);
        }
    }

    /// <summary>
    /// A service gained its first worker or lost its last: every cached resolution is stale, and every
    /// waiting queue gets a chance with the new set (so a request queued before a matching wildcard or
    /// semver worker registered is served when it does).
    /// </summary>
    private void OnWorkerSetChanged(ServiceEntry registered)
    {
        if (!_resolver.Update(registered))
        {
            return;
        }

        foreach (var entry in _services.Values)
        {
            entry.Dependents.Clear();
            MarkQueue(entry);
        }
    }

    private void DispatchPending()
    {
        while (_dispatchList.Count > 0)
        {
            var entry = _dispatchList[^1];
            _dispatchList.RemoveAt(_dispatchList.Count - 1);
            entry.DispatchPending = false;
            Dispatch(entry);
        }
    }

    /// <summary>
    /// Hands queued requests, oldest first, to available workers. A request that only some workers may take
    /// (workerId, earlier rejections) is skipped, not waited on, so it never blocks the rest of its queue.
    /// </summary>
    private void Dispatch(ServiceEntry entry)
    {
        var candidates = _resolver.CandidatesFor(entry);
        var node = entry.Queue.First;
        var now = Stopwatch.GetTimestamp();
        while (node is not null && candidates.Count > 0)
        {
            var next = node.Next;
            var request = node.Value;
            if (request.IsExpired(now))
            {
                Expire(request);
            }
            else if (Pick(candidates, request) is { } worker)
            {
                Unqueue(request);
                if (!SendRequest(worker, request))
                {
                    Enqueue(request, atHead: true);
                    LoseWorker(worker, "unreachable");
                }
            }
            else if (!request.IsConstrained)
            {
                break;
            }

            node = next;
        }
    }

    /// <summary>The best worker of the first candidate service that has one available for this request.</summary>
    private BrokerWorker? Pick(IReadOnlyList<ServiceEntry> candidates, BrokerRequest request)
    {
        foreach (var service in candidates)
        {
            if (PickIn(service.Workers, request) is { } worker)
            {
                return worker;
            }
        }

        return null;
    }

    private BrokerWorker? PickIn(List<BrokerWorker> workers, BrokerRequest request)
    {
        if (Options.DispatchMode == DispatchMode.Rand)
        {
            _candidates.Clear();
            foreach (var worker in workers)
            {
                if (worker.IsAvailable && request.Accepts(worker))
                {
                    _candidates.Add(worker);
                }
            }

            return _candidates.Count == 0 ? null : _candidates[Random.Shared.Next(_candidates.Count)];
        }

        BrokerWorker? best = null;
        foreach (var worker in workers)
        {
            if (!worker.IsAvailable || !request.Accepts(worker))
            {
                continue;
            }

            if (best is null
                || worker.InFlight.Count < best.InFlight.Count
                || (worker.InFlight.Count == best.InFlight.Count && worker.Served < best.Served))
            {
                best = worker;
            }
        }

        return best;
    }

    private bool SendRequest(BrokerWorker worker, BrokerRequest request)
    {
        _writer!.Write(worker.Identity, true);
        PigatoEncoder.WorkerRequest(_writer, request.ClientId, request.Service.NameBytes, request.RidBytes, request.Data, request.Options);
        if (!_writer.EndMessage())
        {
            return false;
        }

        request.Worker = worker;
        worker.InFlight.Add(request.Rid, request);
        Log.Request(_logger, request.Rid, request.Service.Name, "dispatched to", worker.Id);
        return true;
    }

    private static void Unqueue(BrokerRequest request)
    {
        request.Service.Queue.Remove(request.QueueNode!);
        request.QueueNode = null;
    }

    /// <summary>Drops a queued request whose timeout has passed; its client fails it with C_TIMEOUT on its own.</summary>
    private void Expire(BrokerRequest request)
    {
        Unqueue(request);
        _requests.Remove(request.Rid);
        _metrics?.Expired();
        Log.Request(_logger, request.Rid, request.Service.Name, "expired in queue");
    }

    private void ExpireQueuedRequests()
    {
        var now = Stopwatch.GetTimestamp();
        List<ServiceEntry>? unused = null;
        foreach (var entry in _services.Values)
        {
            for (var node = entry.Queue.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.IsExpired(now))
                {
                    Expire(node.Value);
                }

                node = next;
            }

            if (entry.IsUnused)
            {
                (unused ??= []).Add(entry);
            }
        }

        // Names only ever requested, with nothing queued, are forgotten so that random names cannot grow the broker.
        foreach (var entry in unused ?? [])
        {
            _services.Remove(entry.Name);
            foreach (var candidate in entry.Candidates)
            {
                candidate.Dependents.Remove(entry);
            }
        }
    }

    /// <summary>Publishes <c>$dir {service: [workerIds]}</c> on the internal channel for core services.</summary>
    private void PublishDirectory()
    {
        if (_publisher is null)
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write(DirectoryTopic);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var entry in _services.Values)
            {
                if (!entry.Registered)
                {
                    continue;
                }

                json.WriteStartArray(entry.Name);
                foreach (var worker in entry.Workers)
                {
                    json.WriteStringValue(worker.Id);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        _publisher.SendFrame(buffer.WrittenSpan.ToArray());
    }
}
