using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>The broker's System.Diagnostics.Metrics instruments, read with a MeterListener.</summary>
public class MetricsTests
{
    [Fact]
    public async Task Broker_CountsRequestsByOutcome_AndGaugesWhatItHolds()
    {
        // Fast ticks for the gauges and the expiry, but patient with workers: a loaded machine must not purge one.
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(250), Liveness = 20 });
        var totals = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Broker.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };

        // Other tests' brokers report on the same meter: keep only this broker's measurements.
        bool Mine(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "pigato.broker" && (string?)tag.Value == harness.Broker.Name)
                {
                    return true;
                }
            }

            return false;
        }

        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (Mine(tags))
            {
                totals.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
            }
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
        {
            if (Mine(tags))
            {
                totals[instrument.Name] = value;
            }
        });
        listener.Start();

        await harness.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d));
        await harness.StartWorkerAsync("no", (_, r, _) => r.RejectAsync());
        var client = await harness.StartClientAsync();
        for (var i = 0; i < 3; i++)
        {
            await client.RequestAsync<int>("echo", i, cancellationToken: Bounded.Token());
        }

        await Assert.ThrowsAsync<PigatoTimeoutException>(() => client.RequestAsync<string>("no", null, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(300) }).AsTask());
        await Bounded.UntilAsync(() => totals.GetValueOrDefault("pigato.broker.requests.expired") == 1, "the rejected request expires in the broker");

        Assert.Equal(4, totals["pigato.broker.requests.received"]);
        Assert.Equal(3, totals["pigato.broker.requests.completed"]);
        Assert.Equal(1, totals["pigato.broker.requests.rejected"]);
        await Bounded.UntilAsync(() =>
        {
            listener.RecordObservableInstruments();
            return totals.GetValueOrDefault("pigato.broker.workers") == 2;
        }, "the workers gauge shows both workers");
    }
}

/// <summary>The client's and worker's instruments: durations by service and outcome, in flight, errors by code.</summary>
[Collection(SerialTests.Name)]
public class ActorMetricsTests
{
    [Fact]
    public async Task ClientAndWorker_RecordDurationsOutcomesAndErrors_ByService()
    {
        var measured = new ConcurrentBag<(string Instrument, double Value, string? Service, string? Outcome, string? Error)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Broker.MeterName && (instrument.Name.StartsWith("pigato.client.", StringComparison.Ordinal) || instrument.Name.StartsWith("pigato.worker.", StringComparison.Ordinal)))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? service = null, outcome = null, error = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "messaging.destination.name": service = (string?)tag.Value; break;
                    case "pigato.outcome": outcome = (string?)tag.Value; break;
                    case "error.type": error = (string?)tag.Value; break;
                }
            }

            if (service?.StartsWith("metered-", StringComparison.Ordinal) == true)
            {
                measured.Add((instrument.Name, value, service, outcome, error));
            }
        }

        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("metered-ok", (d, r, _) => r.EndAsync(d));
        await harness.StartWorkerAsync("metered-bad", (_, r, _) => r.ErrorAsync("E_METERED"));
        await harness.StartWorkerAsync("metered-late", async (d, r, _) =>
        {
            // An error after the end is refused, and the request counts as answered, not failed.
            await r.EndAsync(d);
            await Assert.ThrowsAsync<InvalidOperationException>(() => r.ErrorAsync("E_LATE").AsTask());
        });
        var client = await harness.StartClientAsync();
        await client.RequestAsync<string>("metered-ok", "x", cancellationToken: Bounded.Token());
        await client.RequestAsync<string>("metered-late", "y", cancellationToken: Bounded.Token());
        await Assert.ThrowsAsync<PigatoReplyException>(() => client.RequestAsync<string>("metered-bad", null, cancellationToken: Bounded.Token()).AsTask());
        await Bounded.UntilAsync(() => measured.Count(m => m.Instrument == "pigato.worker.process.duration") == 3, "the three handlers are measured");

        Assert.Contains(measured, m => m is { Instrument: "pigato.client.request.duration", Service: "metered-ok", Outcome: "ok" } && m.Value > 0);
        Assert.Contains(measured, m => m is { Instrument: "pigato.client.request.duration", Service: "metered-bad", Outcome: "error" });
        Assert.Contains(measured, m => m is { Instrument: "pigato.client.request.errors", Service: "metered-bad", Error: "E_METERED" });
        Assert.Contains(measured, m => m is { Instrument: "pigato.worker.process.errors", Service: "metered-bad" });
        Assert.DoesNotContain(measured, m => m is { Instrument: "pigato.worker.process.errors", Service: "metered-late" });
        Assert.Equal(0, measured.Where(m => m.Instrument == "pigato.client.requests.in_flight").Sum(m => m.Value));
        Assert.Equal(0, measured.Where(m => m.Instrument == "pigato.worker.requests.active").Sum(m => m.Value));
    }
}
