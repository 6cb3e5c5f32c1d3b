namespace Pigato.Monitoring;

/// <summary>One service name, requested or registered, in a <see cref="BrokerSnapshot"/>.</summary>
/// <param name="Name">The service name (<c>echo</c>, <c>ech*</c>, <c>svc@1.2.3</c>).</param>
/// <param name="Queued">Requests waiting for one of its workers.</param>
/// <param name="InFlight">Requests its workers hold.</param>
/// <param name="Workers">Workers registered under it.</param>
/// <param name="Served">Final replies its workers sent.</param>
public sealed record ServiceSnapshot(string Name, int Queued, int InFlight, int Workers, long Served);
