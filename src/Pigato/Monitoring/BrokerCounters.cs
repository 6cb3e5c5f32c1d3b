namespace Pigato.Monitoring;

/// <summary>What a broker has done since it started, in a <see cref="BrokerSnapshot"/>; the same counts its meter reports.</summary>
/// <param name="Received">Requests accepted from clients.</param>
/// <param name="Completed">Requests answered with a final reply by a worker.</param>
/// <param name="Failed">Requests the broker failed itself (worker lost, broker stopping).</param>
/// <param name="Expired">Queued requests dropped when their timeout passed.</param>
/// <param name="Rejected">Rejections by workers.</param>
/// <param name="Refused">Requests refused on arrival (limits, sizes, permissions, store).</param>
/// <param name="Abandoned">Requests dropped because their client went silent or their worker kept them too long.</param>
/// <param name="SlowConsumers">Peers dropped because they did not read what the broker sent.</param>
/// <param name="Denied">Authentication failures, denied requests and registrations.</param>
/// <param name="Errors">The broker's own errors by code (refusals, failures, expiries as <c>C_TIMEOUT</c>, abandons, denials).</param>
public sealed record BrokerCounters(
    long Received,
    long Completed,
    long Failed,
    long Expired,
    long Rejected,
    long Refused,
    long Abandoned,
    long SlowConsumers,
    long Denied,
    IReadOnlyDictionary<string, long> Errors)
{
    /// <summary>Nothing done yet.</summary>
    public static BrokerCounters Empty { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, new Dictionary<string, long>());
}
