namespace Pigato.Monitoring;

/// <summary>
/// One registered worker in a <see cref="BrokerSnapshot"/>, with its service statistics as the broker measures them
/// (so for workers of any language): processing time runs from dispatch to final reply.
/// </summary>
/// <param name="Id">The worker id.</param>
/// <param name="Service">The service it registered as.</param>
/// <param name="InFlight">Requests it holds.</param>
/// <param name="Concurrency">Most requests it takes at once; -1 for no limit.</param>
/// <param name="Requests">Requests dispatched to it.</param>
/// <param name="Served">Final replies it sent.</param>
/// <param name="Errors">Those final replies that were errors.</param>
/// <param name="Rejected">Requests it gave back.</param>
/// <param name="ProcessingTime">Dispatch to final reply, per request.</param>
/// <param name="LastError">Its last error reply (the error value as JSON, cut to 200 characters), or null.</param>
/// <param name="LastHeard">When the broker last heard from it.</param>
/// <param name="Backlogged">True while it reads slower than it is sent to.</param>
public sealed record WorkerSnapshot(
    string Id,
    string Service,
    int InFlight,
    int Concurrency,
    long Requests,
    long Served,
    long Errors,
    long Rejected,
    DurationHistogram ProcessingTime,
    string? LastError,
    DateTimeOffset LastHeard,
    bool Backlogged);
