namespace Pigato.Monitoring;

/// <summary>A request the broker quarantined (<see cref="PigatoErrorCodes.Poison"/>), in a <see cref="BrokerSnapshot"/>.</summary>
public sealed record PoisonedRequestSnapshot
{
    /// <summary>The service it asked for.</summary>
    public required string Service { get; init; }

    /// <summary>The identity of the client that sent it.</summary>
    public required string Client { get; init; }

    /// <summary>Its request id.</summary>
    public required string Rid { get; init; }

    /// <summary>The size of its data, in bytes.</summary>
    public int Bytes { get; init; }

    /// <summary>How many workers were lost while holding it.</summary>
    public int WorkersLost { get; init; }

    /// <summary>The start of its data (at most 64 bytes, as text), to tell which input it was.</summary>
    public string DataPrefix { get; init; } = "";

    /// <summary>When it was quarantined.</summary>
    public DateTimeOffset At { get; init; }
}
