namespace Pigato.Persistence;

/// <summary>What a request store is made for: one broker.</summary>
public sealed class RequestStoreContext
{
    /// <summary>The broker's name: its claim in a store that several brokers share.</summary>
    public required string BrokerName { get; init; }

    /// <summary>How long the broker's claim lasts unrenewed before another broker may take its requests over (<see cref="BrokerOptions.StoreLease"/>).</summary>
    public required TimeSpan Lease { get; init; }
}
