using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>The broker's limits through real sockets: the error reply a client gets, the log line and the metric, and everyone else served meanwhile.</summary>
public class LimitTests
{
    public static TheoryData<string, BrokerOptions> Limits => new()
    {
        { PigatoErrorCodes.BrokerFull, new BrokerOptions { MaxHeldBytes = 4096 } },
        { PigatoErrorCodes.ClientPendingLimit, new BrokerOptions { MaxPendingPerClient = 3 } },
        { PigatoErrorCodes.ClientBytesLimit, new BrokerOptions { MaxBytesPerClient = 3000 } },
        { PigatoErrorCodes.ServiceQueueFull, new BrokerOptions { MaxQueuedPerService = 3 } },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public async Task OverALimit_TheClientGetsTheBrokersCode_LoggedAndCounted_OthersServed(string code, BrokerOptions options)
    {
        await using var harness = await PigatoHarness.StartAsync(options);
        using var refusals = new RefusalCounter(harness.Broker.Name);
        await harness.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d));
        var flooder = await harness.StartClientAsync();
        var bystander = await harness.StartClientAsync();

        // Requests for a service nobody serves stay in the broker until a limit refuses more.
        var held = Enumerable.Range(0, 10)
            .Select(_ => flooder.RequestAsync<string>("nobody", new string('x', 600), cancellationToken: Bounded.Token()).AsTask())
            .ToArray();
        var refused = await Assert.ThrowsAsync<PigatoBrokerException>(() => Task.WhenAny(held).Unwrap().WithinAsync("a refusal"));

        Assert.Equal(code, refused.Code);
        if (code == PigatoErrorCodes.BrokerFull)
        {
            // A full broker refuses everyone's new requests, until what it holds drains.
            var alsoRefused = await Assert.ThrowsAsync<PigatoBrokerException>(() => bystander.RequestAsync<string>("echo", "echo?", cancellationToken: Bounded.Token()).AsTask());
            Assert.Equal(code, alsoRefused.Code);
        }
        else
        {
            Assert.Equal("echo?", await bystander.RequestAsync<string>("echo", "echo?", cancellationToken: Bounded.Token()));
        }

        await Bounded.UntilAsync(() => refusals.Count(code) > 0, $"the refusal is counted under {code}");
        Assert.Contains(harness.BrokerLog.Lines, line => line.Contains(code, StringComparison.Ordinal) && line.Contains("refused", StringComparison.Ordinal));
        var stats = await harness.Broker.GetStatsAsync();
        Assert.True(stats.HeldBytes <= options.MaxHeldBytes);
        var bystanderRefusals = code == PigatoErrorCodes.BrokerFull ? 1 : 0;
        Assert.Equal(10 - (refusals.Count(code) - bystanderRefusals), stats.QueuedRequests);

        // Nothing accepted is dropped: a worker for the held requests answers every one of them.
        await harness.StartWorkerAsync("nobody", (d, r, _) => r.EndAsync(d));
        var answered = 0;
        foreach (var call in held)
        {
            try
            {
                Assert.Equal(600, (await call.WithinAsync("a held request"))!.Length);
                answered++;
            }
            catch (PigatoBrokerException e)
            {
                Assert.Equal(code, e.Code);
            }
        }

        Assert.Equal(stats.QueuedRequests, answered);
        Assert.Equal("echo?", await bystander.RequestAsync<string>("echo", "echo?", cancellationToken: Bounded.Token()));
    }

    [Fact]
    public async Task OversizedRequest_FromARawClient_GetsMessageTooLarge()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { MaxMessageSize = 4096 });
        using var client = RawSocket.Dealer(harness.Endpoint, "raw-client");

        client.Send("C", "2", "echo", "big", "\"" + new string('x', 5000) + "\"", "{}");

        Assert.Equal(["C", "3", "", "big", "-1", $"\"{PigatoErrorCodes.MessageTooLarge}\"", "{\"origin\":\"broker\"}"], client.ReceiveMatching(0, "C", "3"));
        Assert.Equal(0, (await harness.Broker.GetStatsAsync()).TrackedRequests);
    }

    [Fact]
    public async Task OversizedRequest_IsRefusedByTheDotnetClient_BeforeSending()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var client = await harness.StartClientAsync(o => o with { MaxMessageSize = 4096 });

        var error = await Assert.ThrowsAsync<PigatoException>(() => client.RequestAsync<string>("echo", new string('x', 5000)).AsTask());

        Assert.Equal(PigatoErrorCodes.MessageTooLarge, error.Code);
    }

    [Fact]
    public async Task LongRid_GetsFrameTooLong()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { MaxRidLength = 16 });
        using var client = RawSocket.Dealer(harness.Endpoint, "raw-client");
        var rid = new string('r', 40);

        client.Send("C", "2", "echo", rid, "null", "{}");

        Assert.Equal(["C", "3", "", rid, "-1", $"\"{PigatoErrorCodes.FrameTooLong}\"", "{\"origin\":\"broker\"}"], client.ReceiveMatching(0, "C", "3"));
    }

    [Fact]
    public async Task OversizedReply_DisconnectsTheWorker_TheClientGetsMessageTooLarge()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { MaxMessageSize = 4096 });
        await harness.StartWorkerAsync("huge", (_, r, _) => r.EndAsync(new string('x', 10_000)));
        var client = await harness.StartClientAsync();

        var error = await Assert.ThrowsAsync<PigatoBrokerException>(() => client.RequestAsync<string>("huge", null, cancellationToken: Bounded.Token()).AsTask());

        Assert.Equal(PigatoErrorCodes.MessageTooLarge, error.Code);
        Assert.Contains(harness.BrokerErrors.ToArray(), e => e.Code == PigatoErrorCodes.MessageTooLarge);
    }

    [Fact]
    public async Task TooManyPending_TheDotnetClientRefusesLocally_WithClientBusy()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var client = await harness.StartClientAsync(o => o with { MaxPendingRequests = 2 });
        var waiting = new[] { client.RequestAsync<string>("nobody", null).AsTask(), client.RequestAsync<string>("nobody", null).AsTask() };

        var error = await Assert.ThrowsAsync<PigatoException>(() => client.RequestAsync<string>("nobody", null).AsTask());

        Assert.Equal(PigatoErrorCodes.ClientBusy, error.Code);
        Assert.Equal(2, client.PendingCount);
        await client.StopAsync();
        await Assert.ThrowsAnyAsync<PigatoException>(() => Task.WhenAll(waiting));
    }

    [Fact]
    public async Task SlowStreamReader_EndsWithSlowConsumer_NotUnboundedMemory()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("firehose", async (_, reply, _) =>
        {
            for (var i = 0; i < 200; i++)
            {
                await reply.WriteAsync(i);
            }

            await reply.EndAsync(-1);
        });
        var client = await harness.StartClientAsync(o => o with { MaxBufferedReplies = 10 });
        var stream = client.RequestStreamAsync<int>("firehose", null, cancellationToken: Bounded.Token()).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync());
        await Bounded.UntilAsync(() => client.PendingCount == 0, "the client abandons the stream it cannot buffer");

        var error = await Assert.ThrowsAsync<PigatoException>(async () =>
        {
            while (await stream.MoveNextAsync())
            {
            }
        });

        Assert.Equal(PigatoErrorCodes.SlowConsumer, error.Code);
        await stream.DisposeAsync();
    }

    /// <summary>Counts <c>pigato.broker.requests.refused</c> by code for one broker.</summary>
    private sealed class RefusalCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, long> _byCode = new();

        public RefusalCounter(string broker)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == Broker.MeterName && instrument.Name == "pigato.broker.requests.refused")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string? name = null, code = null;
                foreach (var tag in tags)
                {
                    (name, code) = tag.Key switch
                    {
                        "pigato.broker" => ((string?)tag.Value, code),
                        "pigato.error.code" => (name, (string?)tag.Value),
                        _ => (name, code),
                    };
                }

                if (name == broker && code is not null)
                {
                    _byCode.AddOrUpdate(code, value, (_, sum) => sum + value);
                }
            });
            _listener.Start();
        }

        public long Count(string code) => _byCode.GetValueOrDefault(code);

        public void Dispose() => _listener.Dispose();
    }
}

/// <summary>A client that stops reading: the broker never waits on it, drops what it will not read, and serves everyone else.</summary>
public class SlowConsumerTests
{
    [Fact]
    public async Task ClientThatStopsReading_IsASlowConsumer_OthersKeepBeingServed()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions
        {
            SendHighWatermark = 10,
            MaxQueuedPerPeer = 100_000,
            SlowConsumerTimeout = TimeSpan.FromMilliseconds(500),
        });
        await harness.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d), o => o with { Concurrency = -1 });
        var bystander = await harness.StartClientAsync();
        using var sloth = RawSocket.Dealer(harness.Endpoint, "sloth", receiveHighWatermark: 1);
        var payload = "\"" + new string('x', 64 * 1024) + "\"";

        // Far more reply bytes than loopback TCP buffers hold: the broker's pipe to the sloth fills.
        for (var i = 0; i < 400; i++)
        {
            sloth.Send("C", "2", "echo", "r" + i, payload, "{}");
        }

        await Bounded.UntilAsync(() => harness.BrokerLog.Lines.Any(line => line.Contains("SLOW_CONSUMER", StringComparison.Ordinal) && line.Contains("sloth", StringComparison.Ordinal)), "the broker drops the sloth's queue");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("still here " + i, await bystander.RequestAsync<string>("echo", "still here " + i, cancellationToken: Bounded.Token()));
        }

        // Every request of the sloth was answered (into the void): nothing stays held for it.
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()) is { TrackedRequests: 0, HeldBytes: 0 }, "the broker holds nothing for the sloth");
    }
}
