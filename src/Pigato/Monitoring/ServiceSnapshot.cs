namespace Pigato.Monitoring;

/// <summary>One service name, requested or registered, in a <see cref="BrokerSnapshot"/>.</summary>
public sealed record ServiceSnapshot
{
    /// <summary>The service name (<c>echo</c>, <c>ech*</c>, <c>svc@1.2.3</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Requests waiting for one of its workers.</summary>
    public int Queued { get; init; }

    /// <summary>Requests its workers hold.</summary>
    public int InFlight { get; init; }

    /// <summary>Workers registered under it.</summary>
    public int Workers { get; init; }

    /// <summary>Final replies its workers sent.</summary>
    public long Served { get; init; }
}
