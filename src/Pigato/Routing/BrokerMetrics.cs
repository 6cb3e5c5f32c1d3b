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
    private readonly Tally _received;
    private readonly Tally _completed;
    private readonly Tally _failed;
    private readonly Tally _expired;
    private readonly Tally _rejected;
    private readonly Tally _refused;
    private readonly Tally _abandoned;
    private readonly Tally _cancelled;
    private readonly Tally _slowConsumers;
    private readonly Tally _poisoned;
    private readonly Tally _denied;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _restored;
    private readonly Counter<long> _reattached;

    /// <summary>The broker's own errors by code, across the tallies that carry one.</summary>
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);

    public BrokerMetrics(string brokerName, Func<BrokerStats> snapshot)
    {
        _meter = new Meter(MeterName, typeof(BrokerMetrics).Assembly.GetName().Version?.ToString());
        _broker = new("pigato.broker", brokerName);
        _received = Tally.Create(this, "pigato.broker.requests.received", "{request}", "Requests received from clients.");
        _completed = Tally.Create(this, "pigato.broker.requests.completed", "{request}", "Requests answered with a final reply by a worker.");
        _failed = Tally.Create(this, "pigato.broker.requests.failed", "{request}", "Requests the broker failed itself (worker lost without retry, broker stopping).");
        _expired = Tally.Create(this, "pigato.broker.requests.expired", "{request}", "Queued requests dropped when their timeout passed.");
        _rejected = Tally.Create(this, "pigato.broker.requests.rejected", "{rejection}", "Rejections by workers (the request is offered to another worker).");
        _refused = Tally.Create(this, "pigato.broker.requests.refused", "{request}", "Requests refused on arrival, by error code (limits, message size).");
        _abandoned = Tally.Create(this, "pigato.broker.requests.abandoned", "{request}", "Requests dropped because their client went silent (queued) or their worker kept them past their timeout (in flight), by reason.");
        _cancelled = Tally.Create(this, "pigato.broker.requests.cancelled", "{request}", "Requests their client cancelled, by where the cancellation found them (pigato.cancel.stage: queued, dropped at once; in_flight, a v2 worker told and its replies dropped).");
        _slowConsumers = Tally.Create(this, "pigato.broker.slow_consumers", "{peer}", "Peers whose outbound queue the broker dropped because they did not read it (a worker among them is disconnected).");
        _poisoned = Tally.Create(this, "pigato.broker.requests.poisoned", "{request}", "Retry and persist requests quarantined as poison (ERR_POISON): too many workers were lost while holding them.");
        _denied = Tally.Create(this, "pigato.broker.auth.denied", "{event}", "Authentication failures, denied requests and registrations, and revocations, by error code.");
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

    public void Received() => _received.Add();

    public void Completed() => _completed.Add();

    public void Failed(string code) => _failed.Add(code);

    public void Expired() => _expired.AddCountedAs(PigatoErrorCodes.Timeout);

    public void Rejected() => _rejected.Add();

    public void Refused(string code) => _refused.Add(code);

    public void Abandoned(string reason) => _abandoned.Add(reason);

    /// <summary>A client cancelled a request: still <paramref name="queued"/>, or at a worker.</summary>
    public void Cancelled(bool queued) => _cancelled.Add(new KeyValuePair<string, object?>("pigato.cancel.stage", queued ? "queued" : "in_flight"));

    public void SlowConsumer() => _slowConsumers.Add();

    public void Poisoned() => _poisoned.Add();

    public void Denied(string code) => _denied.Add(code);

    public void Stored() => _stored.Add(1, _broker);

    public void Restored(int count, bool takenOver) => _restored.Add(count, _broker, new KeyValuePair<string, object?>("pigato.store.origin", takenOver ? "taken_over" : "replayed"));

    public void Reattached() => _reattached.Add(1, _broker);

    /// <summary>The counts so far, for the broker's snapshot.</summary>
    public Monitoring.BrokerCounters Counters() =>
        new()
        {
            Received = _received.Count,
            Completed = _completed.Count,
            Failed = _failed.Count,
            Expired = _expired.Count,
            Rejected = _rejected.Count,
            Refused = _refused.Count,
            Abandoned = _abandoned.Count,
            Cancelled = _cancelled.Count,
            SlowConsumers = _slowConsumers.Count,
            Poisoned = _poisoned.Count,
            Denied = _denied.Count,
            Errors = new Dictionary<string, long>(_errors, StringComparer.Ordinal),
        };

    public void Dispose() => _meter.Dispose();

    /// <summary>A counter on the meter and its running count for the snapshot; a code both tags the measurement and counts among the errors.</summary>
    private sealed class Tally(BrokerMetrics metrics, Counter<long> counter)
    {
        public long Count { get; private set; }

        public static Tally Create(BrokerMetrics metrics, string name, string unit, string description) =>
            new(metrics, metrics._meter.CreateCounter<long>(name, unit, description));

        public void Add()
        {
            Count++;
            counter.Add(1, metrics._broker);
        }

        /// <summary>One more with a tag that is not an error code.</summary>
        public void Add(KeyValuePair<string, object?> tag)
        {
            Count++;
            counter.Add(1, metrics._broker, tag);
        }

        /// <summary>One more with its error code, as tag and among the errors.</summary>
        public void Add(string code)
        {
            Count++;
            CountError(code);
            counter.Add(1, metrics._broker, new KeyValuePair<string, object?>("pigato.error.code", code));
        }

        /// <summary>One more, counted among the errors as <paramref name="code"/> but not tagged with it.</summary>
        public void AddCountedAs(string code)
        {
            Add();
            CountError(code);
        }

        private void CountError(string code) => metrics._errors[code] = metrics._errors.GetValueOrDefault(code) + 1;
    }
}
