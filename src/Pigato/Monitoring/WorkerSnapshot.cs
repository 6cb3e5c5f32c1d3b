namespace Pigato.Monitoring;

/// <summary>
/// One registered worker in a <see cref="BrokerSnapshot"/>, with its service statistics as the broker measures them
/// (so for workers of any language): processing time runs from dispatch to final reply.
/// </summary>
public sealed record WorkerSnapshot
{
    /// <summary>The worker id.</summary>
    public required string Id { get; init; }

    /// <summary>The service it registered as.</summary>
    public required string Service { get; init; }

    /// <summary>Requests it holds.</summary>
    public int InFlight { get; init; }

    /// <summary>Most requests it takes at once; -1 for no limit.</summary>
    public int Concurrency { get; init; }

    /// <summary>Requests dispatched to it.</summary>
    public long Requests { get; init; }

    /// <summary>Final replies it sent.</summary>
    public long Served { get; init; }

    /// <summary>Those final replies that were errors.</summary>
    public long Errors { get; init; }

    /// <summary>Requests it gave back.</summary>
    public long Rejected { get; init; }

    /// <summary>Dispatch to final reply, per request.</summary>
    public DurationHistogram ProcessingTime { get; init; } = DurationHistogram.Empty;

    /// <summary>Its last error reply (the error value as JSON, cut to 200 characters), or null.</summary>
    public string? LastError { get; init; }

    /// <summary>When the broker last heard from it.</summary>
    public DateTimeOffset LastHeard { get; init; }

    /// <summary>True while it reads slower than it is sent to.</summary>
    public bool Backlogged { get; init; }
}
