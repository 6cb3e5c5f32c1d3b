namespace Pigato.Monitoring;

/// <summary>
/// What a broker holds and has done, taken at one moment on its thread (<see cref="Broker.GetSnapshotAsync"/>): the
/// management endpoint, <c>pigato top</c> and the <c>$stats</c> service are built on it. Lists hold the busiest entries
/// first, at most the number asked for; <see cref="Stats"/> has the full counts.
/// </summary>
public sealed record BrokerSnapshot
{
    /// <summary>The broker's name.</summary>
    public required string Broker { get; init; }

    /// <summary>When the snapshot was taken.</summary>
    public DateTimeOffset TakenAt { get; init; }

    /// <summary>When the broker started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>The counts of what it holds.</summary>
    public BrokerStats Stats { get; init; } = BrokerStats.Empty;

    /// <summary>What it has done since it started.</summary>
    public BrokerCounters Counters { get; init; } = BrokerCounters.Empty;

    /// <summary>Requests from arrival to final reply, as the broker sees them.</summary>
    public DurationHistogram RequestDuration { get; init; } = DurationHistogram.Empty;

    /// <summary>Services, those with the most requests queued and in flight first.</summary>
    public IReadOnlyList<ServiceSnapshot> Services { get; init; } = [];

    /// <summary>Workers, those with the most requests in flight first.</summary>
    public IReadOnlyList<WorkerSnapshot> Workers { get; init; } = [];

    /// <summary>Clients with requests in the broker, those with the most first.</summary>
    public IReadOnlyList<ClientSnapshot> Clients { get; init; } = [];

    /// <summary>The requests quarantined lately as poison (<see cref="PigatoErrorCodes.Poison"/>), the newest first (at most 20).</summary>
    public IReadOnlyList<PoisonedRequestSnapshot> Poisoned { get; init; } = [];
}
