namespace Pigato;

/// <summary>What a broker holds at one moment.</summary>
/// <param name="Workers">Registered workers.</param>
/// <param name="Services">Known service names (requested or registered).</param>
/// <param name="QueuedRequests">Requests waiting for a worker.</param>
/// <param name="InFlightRequests">Requests a worker holds.</param>
/// <param name="TrackedRequests">Every request the broker remembers; equals queued + in flight + kept replies unless something leaked.</param>
/// <param name="HeldBytes">The bytes those requests hold, counted against <see cref="BrokerOptions.MaxHeldBytes"/>.</param>
/// <param name="Clients">Clients with requests in the broker.</param>
/// <param name="StoredRequests">The <c>persist</c> requests among them (in the store, when the broker has one).</param>
/// <param name="KeptReplies">Final replies of <c>persist</c> requests kept for a client that has not re-attached yet.</param>
public sealed record BrokerStats(int Workers, int Services, int QueuedRequests, int InFlightRequests, int TrackedRequests, long HeldBytes = 0, int Clients = 0, int StoredRequests = 0, int KeptReplies = 0);
