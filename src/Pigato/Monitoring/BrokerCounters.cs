namespace Pigato.Monitoring;

/// <summary>What a broker has done since it started, in a <see cref="BrokerSnapshot"/>; the same counts its meter reports.</summary>
public sealed record BrokerCounters
{
    /// <summary>Nothing done yet.</summary>
    public static BrokerCounters Empty { get; } = new();

    /// <summary>Requests accepted from clients.</summary>
    public long Received { get; init; }

    /// <summary>Requests answered with a final reply by a worker.</summary>
    public long Completed { get; init; }

    /// <summary>Requests the broker failed itself (worker lost, broker stopping).</summary>
    public long Failed { get; init; }

    /// <summary>Queued requests dropped when their timeout passed.</summary>
    public long Expired { get; init; }

    /// <summary>Rejections by workers.</summary>
    public long Rejected { get; init; }

    /// <summary>Requests refused on arrival (limits, sizes, permissions, store).</summary>
    public long Refused { get; init; }

    /// <summary>Requests dropped because their client went silent or their worker kept them too long.</summary>
    public long Abandoned { get; init; }

    /// <summary>Requests their client cancelled (queued ones dropped, those at a worker cancelled there).</summary>
    public long Cancelled { get; init; }

    /// <summary>Requests quarantined as poison: too many workers were lost while holding them.</summary>
    public long Poisoned { get; init; }

    /// <summary>Peers dropped because they did not read what the broker sent.</summary>
    public long SlowConsumers { get; init; }

    /// <summary>Authentication failures, denied requests and registrations.</summary>
    public long Denied { get; init; }

    /// <summary>The broker's own errors by code (refusals, failures, expiries as <c>C_TIMEOUT</c>, abandons, denials).</summary>
    public IReadOnlyDictionary<string, long> Errors { get; init; } = new Dictionary<string, long>();
}
