namespace Pigato;

/// <summary>What a broker holds at one moment. Every count is zero unless set, so that fields can be added.</summary>
public sealed record BrokerStats
{
    /// <summary>A broker that holds nothing.</summary>
    public static BrokerStats Empty { get; } = new();

    /// <summary>Registered workers.</summary>
    public int Workers { get; init; }

    /// <summary>Known service names (requested or registered).</summary>
    public int Services { get; init; }

    /// <summary>Requests waiting for a worker.</summary>
    public int QueuedRequests { get; init; }

    /// <summary>Requests a worker holds.</summary>
    public int InFlightRequests { get; init; }

    /// <summary>Every request the broker remembers; equals queued + in flight + kept replies unless something leaked.</summary>
    public int TrackedRequests { get; init; }

    /// <summary>The bytes those requests hold, counted against <see cref="BrokerOptions.MaxHeldBytes"/>.</summary>
    public long HeldBytes { get; init; }

    /// <summary>Clients with requests in the broker.</summary>
    public int Clients { get; init; }

    /// <summary>The <c>persist</c> requests among them (in the store, when the broker has one).</summary>
    public int StoredRequests { get; init; }

    /// <summary>Final replies of <c>persist</c> requests kept for a client that has not re-attached yet.</summary>
    public int KeptReplies { get; init; }
}
