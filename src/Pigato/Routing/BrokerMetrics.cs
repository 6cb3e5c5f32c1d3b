using System.Diagnostics.Metrics;

namespace Pigato.Routing;

/// <summary>
/// The broker's instruments on the <c>Pigato</c> meter (System.Diagnostics.Metrics): counters of requests by
/// outcome and gauges of what the broker holds, tagged with the broker's name. Cheap when nobody listens. It keeps the
/// same counts for <see cref="Counters"/> (the broker's snapshot); every method runs on the broker's thread.
/// </summary>
internal sealed class BrokerMetrics : IDisposable
{
    /// <summary>The meter name to listen to (dotnet-counters, OpenTelemetry's AddMeter).</summary>
    public const string MeterName = "Pigato";

    private readonly Meter _meter;
    private readonly KeyValuePair<string, object?> _broker;
    private readonly Counter<long> _received;
    private readonly Counter<long> _completed;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _expired;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _abandoned;
    private readonly Counter<long> _slowConsumers;
    private readonly Counter<long> _denied;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _restored;
    private readonly Counter<long> _reattached;
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _receivedCount, _completedCount, _failedCount, _expiredCount, _rejectedCount, _refusedCount, _abandonedCount, _slowConsumerCount, _deniedCount;

    public BrokerMetrics(string brokerName, Func<BrokerStats> snapshot)
    {
        _meter = new Meter(MeterName, typeof(BrokerMetrics).Assembly.GetName().Version?.ToString());
        _broker = new("pigato.broker", brokerName);
        _received = _meter.CreateCounter<long>("pigato.broker.requests.received", "{request}", "Requests received from clients.");
        _completed = _meter.CreateCounter<long>("pigato.broker.requests.completed", "{request}", "Requests answered with a final reply by a worker.");
        _failed = _meter.CreateCounter<long>("pigato.broker.requests.failed", "{request}", "Requests the broker failed itself (worker lost without retry, broker stopping).");
        _expired = _meter.CreateCounter<long>("pigato.broker.requests.expired", "{request}", "Queued requests dropped when their timeout passed.");
        _rejected = _meter.CreateCounter<long>("pigato.broker.requests.rejected", "{rejection}", "Rejections by workers (the request is offered to another worker).");
        _refused = _meter.CreateCounter<long>("pigato.broker.requests.refused", "{request}", "Requests refused on arrival, by error code (limits, message size).");
        _abandoned = _meter.CreateCounter<long>("pigato.broker.requests.abandoned", "{request}", "Requests dropped because their client went silent (queued) or their worker kept them past their timeout (in flight), by reason.");
        _slowConsumers = _meter.CreateCounter<long>("pigato.broker.slow_consumers", "{peer}", "Peers whose outbound queue the broker dropped because they did not read it (a worker among them is disconnected).");
        _denied = _meter.CreateCounter<long>("pigato.broker.auth.denied", "{event}", "Authentication failures, denied requests and registrations, and revocations, by error code.");
        _stored = _meter.CreateCounter<long>("pigato.broker.store.stored", "{request}", "Persist requests written to the request store.");
        _restored = _meter.CreateCounter<long>("pigato.broker.store.restored", "{request}", "Persist requests read back from the store and queued again, by origin (replayed at start, taken_over from a dead broker).");
        _reattached = _meter.CreateCounter<long>("pigato.broker.store.reattached", "{request}", "Persist requests a client re-attached to under a new identity (after a reconnection or a broker restart).");
        _meter.CreateObservableGauge("pigato.broker.store.held", () => new Measurement<int>(snapshot().StoredRequests, _broker), "{request}", "Persist requests held (in the store when the broker has one).");
        _meter.CreateObservableGauge("pigato.broker.held_bytes", () => new Measurement<long>(snapshot().HeldBytes, _broker), "By", "Bytes held for requests (the memory budget's use).");
        _meter.CreateObservableGauge("pigato.broker.clients", () => new Measurement<int>(snapshot().Clients, _broker), "{client}", "Clients with requests in the broker.");
        _meter.CreateObservableGauge("pigato.broker.workers", () => new Measurement<int>(snapshot().Workers, _broker), "{worker}", "Registered workers.");
        _meter.CreateObservableGauge("pigato.broker.requests.queued", () => new Measurement<int>(snapshot().QueuedRequests, _broker), "{request}", "Requests waiting for a worker.");
        _meter.CreateObservableGauge("pigato.broker.requests.in_flight", () => new Measurement<int>(snapshot().InFlightRequests, _broker), "{request}", "Requests a worker holds.");
    }

    public void Received()
    {
        _receivedCount++;
        _received.Add(1, _broker);
    }

    public void Completed()
    {
        _completedCount++;
        _completed.Add(1, _broker);
    }

    public void Failed(string code)
    {
        _failedCount++;
        CountError(code);
        _failed.Add(1, _broker, new KeyValuePair<string, object?>("pigato.error.code", code));
    }

    public void Expired()
    {
        _expiredCount++;
        CountError(PigatoErrorCodes.Timeout);
        _expired.Add(1, _broker);
    }

    public void Rejected()
    {
        _rejectedCount++;
        _rejected.Add(1, _broker);
    }

    public void Refused(string code)
    {
        _refusedCount++;
        CountError(code);
        _refused.Add(1, _broker, new KeyValuePair<string, object?>("pigato.error.code", code));
    }

    public void Abandoned(string reason)
    {
        _abandonedCount++;
        CountError(reason);
        _abandoned.Add(1, _broker, new KeyValuePair<string, object?>("pigato.error.code", reason));
    }

    public void SlowConsumer()
    {
        _slowConsumerCount++;
        _slowConsumers.Add(1, _broker);
    }

    public void Denied(string code)
    {
        _deniedCount++;
        CountError(code);
        _denied.Add(1, _broker, new KeyValuePair<string, object?>("pigato.error.code", code));
    }

    public void Stored() => _stored.Add(1, _broker);

    public void Restored(int count, bool takenOver) => _restored.Add(count, _broker, new KeyValuePair<string, object?>("pigato.store.origin", takenOver ? "taken_over" : "replayed"));

    public void Reattached() => _reattached.Add(1, _broker);

    /// <summary>The counts so far, for the broker's snapshot.</summary>
    public Monitoring.BrokerCounters Counters() =>
        new(_receivedCount, _completedCount, _failedCount, _expiredCount, _rejectedCount, _refusedCount, _abandonedCount, _slowConsumerCount, _deniedCount, new Dictionary<string, long>(_errors, StringComparer.Ordinal));

    public void Dispose() => _meter.Dispose();

    private void CountError(string code) => _errors[code] = _errors.GetValueOrDefault(code) + 1;
}
