namespace Pigato.Monitoring;

/// <summary>A client with requests in the broker, in a <see cref="BrokerSnapshot"/>.</summary>
public sealed record ClientSnapshot
{
    /// <summary>The client id.</summary>
    public required string Id { get; init; }

    /// <summary>Its requests queued or in flight.</summary>
    public int Pending { get; init; }

    /// <summary>The bytes they hold.</summary>
    public long HeldBytes { get; init; }

    /// <summary>When the broker last heard from it.</summary>
    public DateTimeOffset LastHeard { get; init; }
}
