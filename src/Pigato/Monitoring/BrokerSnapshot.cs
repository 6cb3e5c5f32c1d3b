namespace Pigato.Monitoring;

/// <summary>
/// What a broker holds and has done, taken at one moment on its thread (<see cref="Broker.GetSnapshotAsync"/>): the
/// management endpoint, <c>pigato top</c> and the <c>$stats</c> service are built on it. Lists hold the busiest entries
/// first, at most the number asked for; <see cref="Stats"/> has the full counts.
/// </summary>
/// <param name="Broker">The broker's name.</param>
/// <param name="TakenAt">When the snapshot was taken.</param>
/// <param name="StartedAt">When the broker started.</param>
/// <param name="Stats">The counts of what it holds.</param>
/// <param name="Counters">What it has done since it started.</param>
/// <param name="RequestDuration">Requests from arrival to final reply, as the broker sees them.</param>
/// <param name="Services">Services, those with the most requests queued and in flight first.</param>
/// <param name="Workers">Workers, those with the most requests in flight first.</param>
/// <param name="Clients">Clients with requests in the broker, those with the most first.</param>
public sealed record BrokerSnapshot(
    string Broker,
    DateTimeOffset TakenAt,
    DateTimeOffset StartedAt,
    BrokerStats Stats,
    BrokerCounters Counters,
    DurationHistogram RequestDuration,
    IReadOnlyList<ServiceSnapshot> Services,
    IReadOnlyList<WorkerSnapshot> Workers,
    IReadOnlyList<ClientSnapshot> Clients);
