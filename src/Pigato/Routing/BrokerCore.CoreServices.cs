using System.Text.Json;
using Pigato.Monitoring;
using Pigato.Protocol;

namespace Pigato.Routing;

/// <summary>The services the broker answers itself (<c>$stats</c>, and <c>$dir</c> when enabled) and what it counts.</summary>
internal sealed partial class BrokerCore
{
    /// <summary>The core service the broker answers itself: the service statistics of its workers.</summary>
    public const string StatsService = "$stats";

    /// <summary>What <c>$stats</c> answers, given as its data, with the requests quarantined as poison instead of workers.</summary>
    public const string PoisonedStats = "$poisoned";

    /// <summary>The core service the broker answers itself when <see cref="BrokerOptions.EnableDirectory"/>: which workers serve which service.</summary>
    public const string DirectoryService = "$dir";

    private static readonly byte[] StatsServiceName = System.Text.Encoding.UTF8.GetBytes(StatsService);
    private static readonly byte[] DirectoryServiceName = System.Text.Encoding.UTF8.GetBytes(DirectoryService);

    /// <summary>How much of a worker's last error value its statistics keep.</summary>
    private const int LastErrorLength = 200;

    /// <summary>Counts what the broker holds.</summary>
    public BrokerStats Stats()
    {
        int queued = 0, inFlight = 0;
        foreach (var entry in _dispatcher.Services)
        {
            queued += entry.Queue.Count;
        }

        foreach (var worker in _workers.All)
        {
            inFlight += worker.InFlight.Count;
        }

        return new BrokerStats
        {
            Workers = _workers.Count,
            Services = _dispatcher.Services.Count,
            QueuedRequests = queued,
            InFlightRequests = inFlight,
            TrackedRequests = _requests.Count,
            HeldBytes = _requests.HeldBytes + _output.QueuedBytes,
            Clients = _requests.Clients.Count,
            StoredRequests = _requests.DurableCount,
            KeptReplies = _requests.KeptReplies,
        };
    }

    /// <summary>What the broker holds and has done, the busiest first, at most <paramref name="maxEntries"/> of each list.</summary>
    public BrokerSnapshot Snapshot(string brokerName, int maxEntries)
    {
        var services = _dispatcher.Services
            .Select(e => new ServiceSnapshot { Name = e.Name, Queued = e.Queue.Count, InFlight = e.Held - e.Queue.Count, Workers = e.Workers.Count, Served = e.Workers.Sum(w => w.Served) })
            .OrderByDescending(e => e.Queued + e.InFlight).ThenBy(e => e.Name, StringComparer.Ordinal).Take(maxEntries).ToList();
        var workers = _workers.All.OrderByDescending(w => w.InFlight.Count).ThenBy(w => w.Id, StringComparer.Ordinal).Take(maxEntries)
            .Select(Snapshot).ToList();
        var clients = _requests.Clients.OrderByDescending(c => c.Pending).Take(maxEntries)
            .Select(c => new ClientSnapshot { Id = c.Id, Pending = c.Pending, HeldBytes = c.Bytes, LastHeard = WallTime(c.LastHeard) }).ToList();
        return new BrokerSnapshot
        {
            Broker = brokerName,
            TakenAt = _time.GetUtcNow(),
            StartedAt = _startedAt,
            Stats = Stats(),
            Counters = _metrics?.Counters() ?? BrokerCounters.Empty,
            RequestDuration = _durations.Snapshot(),
            Services = services,
            Workers = workers,
            Clients = clients,
            Poisoned = _poisoned.Recent,
        };
    }

    private WorkerSnapshot Snapshot(BrokerWorker worker) =>
        new()
        {
            Id = worker.Id,
            Service = worker.Service.Name,
            InFlight = worker.InFlight.Count,
            Concurrency = worker.Concurrency,
            Requests = worker.Dispatched,
            Served = worker.Served,
            Errors = worker.Errors,
            Rejected = worker.Rejected,
            ProcessingTime = worker.ProcessingTime,
            LastError = worker.LastError,
            LastHeard = WallTime(worker.LastHeard),
            Backlogged = worker.Backlogged,
        };

    /// <summary>A <see cref="TimeProvider"/> timestamp as wall-clock time.</summary>
    private DateTimeOffset WallTime(long timestamp) => _time.GetUtcNow() - _time.GetElapsedTime(timestamp);

    /// <summary>A final reply's share of the statistics: the worker's count, errors and processing time, the broker's request duration.</summary>
    private void CountServed(BrokerWorker worker, BrokerRequest request, ReadOnlySpan<byte> status, ReadOnlySpan<byte> data)
    {
        worker.Served++;
        worker.Processing.Record(_time.GetElapsedTime(request.DispatchedAt, request.LastActivity));
        _durations.Record(_time.GetElapsedTime(request.ArrivedAt, request.LastActivity));
        if (status.SequenceEqual(PigatoFrames.StatusError.Span))
        {
            worker.Errors++;
            worker.LastError = Internal.Utf8.Decode(data[..Math.Min(data.Length, LastErrorLength)]);
        }
    }

    /// <summary>
    /// Answers a request for a service the broker serves itself, from its own tables, at once (true); false for any other
    /// service. Both take a service name (a JSON string) or nothing as data: <c>$stats</c> answers the statistics of that
    /// service's workers (an array) or of every worker by service (an object of arrays), and for <c>"$poisoned"</c> the
    /// requests quarantined lately as poison; <c>$dir</c> the ids of that service's
    /// workers or the whole map, listing only the services the requester may request.
    /// </summary>
    private bool TryAnswerCoreService(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> service, ReadOnlySpan<byte> rid, ReadOnlySpan<byte> data)
    {
        var isStats = service.SequenceEqual(StatsServiceName);
        if (!isStats && !(_options.EnableDirectory && service.SequenceEqual(DirectoryServiceName)))
        {
            return false;
        }

        var name = isStats ? StatsService : DirectoryService;
        if (!TryReadServiceName(data, out var asked))
        {
            Refuse(clientId, rid, PigatoErrorCodes.RequestInvalid, $"{name} takes a service name (a JSON string) or nothing");
            return true;
        }

        _output.SendReply(clientId, rid, isStats ? AnswerStats(asked) : AnswerDirectory(clientId, asked));
        return true;
    }

    private byte[] AnswerStats(string? service) => service == PoisonedStats ? ServiceStatistics.ToJson(_poisoned.Recent) :
        ServiceStatistics.ToJson(_workers.All.Where(w => service is null || w.Service.Name == service).Select(Snapshot), byService: service is null);

    private byte[] AnswerDirectory(ReadOnlySpan<byte> clientId, string? service)
    {
        var principal = _authorizer.PrincipalOf(clientId);
        var permissions = _authorizer.Permissions;
        return _directory.Answer(service, s => permissions is null || permissions.MayRequest(principal, s));
    }

    private static bool TryReadServiceName(ReadOnlySpan<byte> data, out string? service)
    {
        service = null;
        if (data.IsEmpty)
        {
            return true;
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType == JsonTokenType.Null)
            {
                return true;
            }

            service = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            return service is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
