namespace Pigato.Monitoring;

/// <summary>A client with requests in the broker, in a <see cref="BrokerSnapshot"/>.</summary>
/// <param name="Id">The client id.</param>
/// <param name="Pending">Its requests queued or in flight.</param>
/// <param name="HeldBytes">The bytes they hold.</param>
/// <param name="LastHeard">When the broker last heard from it.</param>
public sealed record ClientSnapshot(string Id, int Pending, long HeldBytes, DateTimeOffset LastHeard);
