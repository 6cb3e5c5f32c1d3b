using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Pigato.Integration.Tests.Infrastructure;

namespace Pigato.Integration.Tests;

/// <summary>The broker's System.Diagnostics.Metrics instruments, read with a MeterListener.</summary>
public class MetricsTests
{
    [Fact]
    public async Task Broker_CountsRequestsByOutcome_AndGaugesWhatItHolds()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(250) });
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
