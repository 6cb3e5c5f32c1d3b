using System.Text;
using System.Text.Json;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>
/// The v2 framing of docs/PROTOCOL-V2.md on the wire: the negotiation, the exact one-frame layout, and the broker's
/// translation between a v1 and a v2 peer. v2 frames are written here byte by byte from the document, not by the codec.
/// </summary>
public class CompactFramingTests
{
    private const byte ClientRequest = 0x02, ClientFinal = 0x03, ClientPartial = 0x06;
    private const byte WorkerRequest = 0x82, WorkerFinal = 0x83, WorkerPartial = 0x86, WorkerReject = 0x87;
    private const byte ErrorStatus = 0x01, HasOptions = 0x02;

    /// <summary>A v2 frame: 0x02, kind, flags, then each field after its length (one byte: every field here is short).</summary>
    private static byte[] V2(byte kind, byte flags, params string[] fields)
    {
        var bytes = new List<byte> { 0x02, kind, flags };
        foreach (var field in fields)
        {
            var text = Encoding.UTF8.GetBytes(field);
            Assert.True(text.Length < 128);
            bytes.Add((byte)text.Length);
            bytes.AddRange(text);
        }

        return [.. bytes];
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    private static bool IsV2(byte[][] frames, int at, byte kind) => frames.Length == at + 1 && frames[at].Length > 2 && frames[at][0] == 0x02 && frames[at][1] == kind;

    private static bool StartsWith(byte[][] frames, params string[] prefix) =>
        frames.Length >= prefix.Length && prefix.Select((p, i) => Encoding.UTF8.GetString(frames[i]) == p).All(x => x);

    private static async Task<RawSocket> RegisterAsync(PigatoHarness harness, string id, string status) =>
        (await harness.RegisterRawWorkerAsync(id, "echo", status)).Worker;

    /// <summary>A raw client that said hello with <c>{"v":2}</c> and has the broker's agreement.</summary>
    private static RawSocket V2Client(PigatoHarness harness)
    {
        var client = RawSocket.Dealer(harness.Endpoint, "v2-client");
        client.Send("C", "4", "hello", "{\"v\":2}");
        Assert.Equal(["C", "4", "hello", "{\"v\":2}"], client.ReceiveMatching(0, "C", "4", "hello"));
        return client;
    }

    [Fact]
    public async Task APeerThatSaidNothing_IsAnsweredInV1_EvenWhenItSendsV2()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { MaxRidLength = 4 });
        using var client = RawSocket.Dealer(harness.Endpoint, "silent-client");

        client.Send(V2(ClientRequest, 0, "echo", "too-long-rid", "1"));

        Assert.Equal(["C", "3", "", "too-long-rid", "-1", $"\"{PigatoErrorCodes.FrameTooLong}\"", "{\"origin\":\"broker\"}"], client.ReceiveMatching(0, "C", "3"));
    }

    [Fact]
    public async Task Broker_AnswersAHello_AndAV2Ready_WithV2()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var client = RawSocket.Dealer(harness.Endpoint, "hello-client");
        client.Send("C", "4", "hello", "{\"v\":2}");
        Assert.Equal(["C", "4", "hello", "{\"v\":2}"], client.ReceiveMatching(0, "C", "4", "hello"));

        using var worker = RawSocket.Dealer(harness.Endpoint, "v2-worker");
        worker.Send("W", "1", "echo", "{\"concurrency\":5,\"v\":2}");
        Assert.Equal(["W", "1", "{\"v\":2}"], worker.ReceiveMatching(0, "W", "1"));

        using var old = RawSocket.Dealer(harness.Endpoint, "v1-worker");
        old.Send("W", "1", "echo", "{\"concurrency\":5}");
        Assert.Equal(["W", "1"], old.ReceiveMatching(0, "W", "1"));
    }

    [Fact]
    public async Task BrokerWithV1Framing_AgreesToNothing()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { Framing = Framing.V1 });
        using var client = RawSocket.Dealer(harness.Endpoint, "hello-client");
        client.Send("C", "4", "hello", "{\"v\":2}");
        Assert.Equal(["C", "4", "hello", "{}"], client.ReceiveMatching(0, "C", "4", "hello"));

        using var worker = RawSocket.Dealer(harness.Endpoint, "v2-worker");
        worker.Send("W", "1", "echo", "{\"concurrency\":5,\"v\":2}");
        Assert.Equal(["W", "1"], worker.ReceiveMatching(0, "W", "1"));
    }

    [Fact]
    public async Task V2Client_ToV1Worker_IsTranslatedBothWays()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterAsync(harness, "v1-worker", "{\"concurrency\":5}");
        using var client = V2Client(harness);

        client.Send(V2(ClientRequest, HasOptions, "echo", "rid-1", "\"hi\"", "{\"timeout\":5000}"));
        Assert.Equal(["W", "2", "v2-client", "echo", "", "rid-1", "\"hi\"", "{\"timeout\":5000}"], worker.ReceiveMatching(0, "W", "2"));

        worker.Send("W", "6", "v2-client", "", "rid-1", "0", "\"part\"", "");
        Assert.Equal(V2(ClientPartial, 0, "rid-1", "\"part\""), client.ReceiveWhere(f => IsV2(f, 0, ClientPartial), "v2 partial")[0]);
        worker.Send("W", "3", "v2-client", "", "rid-1", "-1", "\"err\"", "{\"origin\":\"broker\"}");
        Assert.Equal(V2(ClientFinal, ErrorStatus | HasOptions, "rid-1", "\"err\"", "{}"), client.ReceiveWhere(f => IsV2(f, 0, ClientFinal), "v2 final")[0]);
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).TrackedRequests == 0, "the request ended");
    }

    [Fact]
    public async Task ACancellation_ReachesAV2Worker_AndNeverAV1Worker()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterAsync(harness, "v1-worker", "{\"concurrency\":5}");
        using var client = V2Client(harness);

        client.Send(V2(ClientRequest, 0, "echo", "r1", "1"));
        worker.ReceiveMatching(0, "W", "2");
        client.Send("C", "4", "cancel", "r1");
        client.Send(V2(ClientRequest, 0, "echo", "r2", "2"));

        // The pipe keeps order: the next message after r1 is r2, no cancel in between.
        Assert.Equal(["W", "2", "v2-client", "echo", "", "r2", "2", ""], worker.TryReceive(Bounded.Timeout)!);

        using var v2Worker = await RegisterAsync(harness, "v2-worker", "{\"concurrency\":5,\"v\":2}");
        worker.Send("W", "6");
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).Workers == 1, "the v1 worker is gone");
        client.Send(V2(ClientRequest, 0, "echo", "r3", "3"));
        v2Worker.ReceiveWhere(f => IsV2(f, 0, WorkerRequest), "v2 request");
        client.Send("C", "4", "cancel", "r3");

        Assert.Equal(["W", "4", "v2-client", "cancel", "r3"], v2Worker.ReceiveMatching(0, "W", "4", "v2-client", "cancel"));
    }

    [Fact]
    public async Task V1Client_ToV2Worker_IsTranslatedBothWays()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterAsync(harness, "v2-worker", "{\"concurrency\":5,\"v\":2}");
        using var client = RawSocket.Dealer(harness.Endpoint, "v1-client");

        client.Send("C", "2", "echo", "rid-1", "\"hi\"", "");
        Assert.Equal(V2(WorkerRequest, 0, "v1-client", "echo", "rid-1", "\"hi\""), worker.ReceiveWhere(f => IsV2(f, 0, WorkerRequest), "v2 request")[0]);

        worker.Send(V2(WorkerPartial, HasOptions, "v1-client", "rid-1", "\"part\"", "{}"));
        Assert.Equal(["C", "6", "", "rid-1", "0", "\"part\"", "{}"], client.ReceiveMatching(0, "C", "6"));
        worker.Send(V2(WorkerFinal, ErrorStatus, "v1-client", "rid-1", "\"bad\""));
        Assert.Equal(["C", "3", "", "rid-1", "-1", "\"bad\"", ""], client.ReceiveMatching(0, "C", "3"));
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).TrackedRequests == 0, "the request ended");
    }

    [Fact]
    public async Task V2Reject_SendsTheRequestToAnotherWorker()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var first = await RegisterAsync(harness, "v2-first", "{\"concurrency\":5,\"v\":2}");
        using var client = V2Client(harness);
        client.Send(V2(ClientRequest, 0, "echo", "rid-1", "1"));
        first.ReceiveWhere(f => IsV2(f, 0, WorkerRequest), "v2 request");

        using var second = await RegisterAsync(harness, "v1-second", "{\"concurrency\":5}");
        first.Send(V2(WorkerReject, 0, "v2-client", "rid-1", "\"busy\""));
        Assert.Equal(["W", "2", "v2-client", "echo", "", "rid-1", "1", ""], second.ReceiveMatching(0, "W", "2"));
        second.Send("W", "3", "v2-client", "", "rid-1", "0", "2", "");
        Assert.Equal(V2(ClientFinal, 0, "rid-1", "2"), client.ReceiveWhere(f => IsV2(f, 0, ClientFinal), "v2 final")[0]);
    }

    [Fact]
    public async Task BrokerRefusal_ToAV2Request_IsAV2Error()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { MaxRidLength = 4 });
        using var client = V2Client(harness);
        client.Send(V2(ClientRequest, 0, "echo", "too-long-rid", "1"));

        Assert.Equal(
            V2(ClientFinal, ErrorStatus | HasOptions, "too-long-rid", $"\"{PigatoErrorCodes.FrameTooLong}\"", "{\"origin\":\"broker\"}"),
            client.ReceiveWhere(f => IsV2(f, 0, ClientFinal), "v2 refusal")[0]);
    }

    /// <summary>A batch frame (kind 0x00): each message after its length.</summary>
    private static byte[] Batch(params byte[][] messages) => [0x02, 0x00, 0x00, .. messages.SelectMany(m => (byte[])[(byte)m.Length, .. m])];

    [Fact]
    public async Task Batch_OfRequests_IsHandledMessageByMessage()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterAsync(harness, "v1-worker", "{\"concurrency\":5}");
        using var client = V2Client(harness);

        client.Send(Batch(V2(ClientRequest, 0, "echo", "r1", "1"), V2(ClientRequest, 0, "echo", "r2", "2")));

        Assert.Equal(["W", "2", "v2-client", "echo", "", "r1", "1", ""], worker.ReceiveMatching(0, "W", "2"));
        Assert.Equal(["W", "2", "v2-client", "echo", "", "r2", "2", ""], worker.ReceiveMatching(0, "W", "2"));
    }

    [Fact]
    public async Task Broker_BatchesWhatOneCallbackMakesForAPeer_BothWays()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterAsync(harness, "v2-worker", "{\"concurrency\":5,\"v\":2}");
        using var client = V2Client(harness);

        // Two requests in one frame are dispatched in one callback: they reach the worker in one batch.
        client.Send(Batch(V2(ClientRequest, 0, "echo", "r1", "1"), V2(ClientRequest, 0, "echo", "r2", "2")));
        Assert.Equal(
            Batch(V2(WorkerRequest, 0, "v2-client", "echo", "r1", "1"), V2(WorkerRequest, 0, "v2-client", "echo", "r2", "2")),
            worker.ReceiveWhere(f => f.Length == 1 && f[0][0] == 0x02, "the batch of requests")[0]);

        worker.Send(Batch(V2(WorkerPartial, 0, "v2-client", "r1", "\"p\""), V2(WorkerFinal, 0, "v2-client", "r1", "1"), V2(WorkerFinal, 0, "v2-client", "r2", "2")));
        Assert.Equal(
            Batch(V2(ClientPartial, 0, "r1", "\"p\""), V2(ClientFinal, 0, "r1", "1"), V2(ClientFinal, 0, "r2", "2")),
            client.ReceiveWhere(f => f.Length == 1 && f[0][0] == 0x02, "the batch of replies")[0]);
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).TrackedRequests == 0, "both requests ended");
    }

    [Fact]
    public async Task Batch_WithABadMessage_ReportsIt_AndHandlesTheOthers_ButStopsAtABadLength()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterAsync(harness, "v1-worker", "{\"concurrency\":5}");
        using var client = V2Client(harness);

        client.Send([.. Batch(V2(ClientRequest, 0, "echo", "r1", "1"), Batch(V2(ClientRequest, 0, "echo", "nested", "0")), [0x02, 0x09, 0x00], V2(ClientRequest, 0, "echo", "r2", "2")), 0x7F, 0x02]);

        Assert.Equal("r1", worker.ReceiveMatching(0, "W", "2")[5]);
        Assert.Equal("r2", worker.ReceiveMatching(0, "W", "2")[5]);
        await Bounded.UntilAsync(() => Task.FromResult(harness.BrokerErrors.ToArray().Count(e => e.Code == PigatoErrorCodes.MessageType) == 2), "a nested batch and an unknown kind refused");
        await Bounded.UntilAsync(() => Task.FromResult(harness.BrokerErrors.ToArray().Any(e => e.Code == PigatoErrorCodes.MessageLength)), "the bad length reported");
        Assert.Equal(2, (await harness.Broker.GetStatsAsync()).TrackedRequests);
    }

    [Theory]
    [InlineData(new byte[] { 0x02, 0x02, 0x00, 0x04, (byte)'e' }, PigatoErrorCodes.MessageLength)] // a field past the end
    [InlineData(new byte[] { 0x02, 0x02, 0x00, 0x01, (byte)'e' }, PigatoErrorCodes.MessageLength)] // too few fields
    [InlineData(new byte[] { 0x02, 0x02, 0x40, 0x01, (byte)'e', 0x01, (byte)'r', 0x00 }, PigatoErrorCodes.MessageType)] // unknown flag
    [InlineData(new byte[] { 0x02, 0x09, 0x00 }, PigatoErrorCodes.MessageType)] // unknown kind
    [InlineData(new byte[] { 0x02, 0x02, 0x00, 0x81 }, PigatoErrorCodes.MessageLength)] // truncated varint
    public async Task MalformedV2Frame_IsReported_AndTheBrokerServesOn(byte[] frame, string code)
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var bad = RawSocket.Dealer(harness.Endpoint, "bad-peer");
        bad.Send(frame);
        await Bounded.UntilAsync(() => Task.FromResult(harness.BrokerErrors.ToArray().Any(e => e.Code == code)), $"the broker reported {code}");

        using var client = RawSocket.Dealer(harness.Endpoint, "good-client");
        client.Send("C", "4");
        Assert.Equal(["C", "4"], client.ReceiveMatching(0, "C", "4"));
    }

    [Fact]
    public async Task Client_SpeaksV2_OnlyAfterTheBrokerAgreed_AndReadsBothFramings()
    {
        using var broker = RawSocket.Router();
        await using var client = new Client(new ClientOptions { Endpoint = broker.Endpoint, HeartbeatInterval = TimeSpan.FromSeconds(30) });
        await client.StartAsync();
        var hello = broker.ReceiveMatching(1, "C", "4", "hello");
        Assert.Equal("{\"v\":2}", hello[4]);
        var id = hello[0];

        var first = client.RequestAsync<string>("echo", "a").AsTask();
        var v1 = broker.ReceiveMatching(1, "C", "2");
        Assert.Equal("echo", v1[3]);
        broker.Send(B(id), V2(ClientFinal, 0, v1[4], "\"one\""));
        Assert.Equal("one", await first.WaitAsync(Bounded.Timeout));

        broker.Send(id, "C", "4", "hello", "{\"v\":2}");
        var second = await SendUntilV2Async(client, broker);
        broker.Send(id, "C", "3", "", second.Rid, "0", "\"two\"", "");
        Assert.Equal("two", await second.Reply.WaitAsync(Bounded.Timeout));
    }

    [Fact]
    public async Task Client_StaysOnV1_WhenTheHelloIsAnsweredAsAHeartbeat()
    {
        // PIGATO for Node.js takes the hello for a heartbeat: it answers C, 4 and nothing more.
        using var broker = RawSocket.Router();
        await using var client = new Client(new ClientOptions { Endpoint = broker.Endpoint, HeartbeatInterval = TimeSpan.FromSeconds(30) });
        await client.StartAsync();
        var id = broker.ReceiveMatching(1, "C", "4", "hello")[0];
        broker.Send(id, "C", "4");
        await Bounded.UntilAsync(() => Task.FromResult(client.IsConnected), "the client heard the broker");

        var reply = client.RequestAsync<string>("echo", "a").AsTask();
        var request = broker.ReceiveWhere(f => !StartsWith(f[1..], "C", "4"), "the request");
        Assert.True(StartsWith(request[1..], "C", "2", "echo"), "the request went in v1 frames");
        broker.Send(id, "C", "3", "", Encoding.UTF8.GetString(request[4]), "0", "\"ok\"", "");
        Assert.Equal("ok", await reply.WaitAsync(Bounded.Timeout));
    }

    [Fact]
    public async Task ClientAndWorkerWithV1Framing_NeverAnnounceV2()
    {
        using var broker = RawSocket.Router();
        await using var client = new Client(new ClientOptions { Endpoint = broker.Endpoint, Framing = Framing.V1, HeartbeatInterval = TimeSpan.FromMilliseconds(100) });
        await client.StartAsync();
        Assert.Equal(3, broker.ReceiveMatching(1, "C", "4").Length);
        Assert.Equal(3, broker.ReceiveMatching(1, "C", "4").Length); // the next heartbeat: no hello came between

        await using var worker = new Worker(new WorkerOptions { Endpoint = broker.Endpoint, Service = "echo", Framing = Framing.V1 }, (_, r, _) => r.EndAsync());
        await worker.StartAsync();
        Assert.Equal("{\"concurrency\":100}", broker.ReceiveMatching(1, "W", "1")[4]);
    }

    [Fact]
    public async Task Worker_AnswersInV2_OnlyAfterTheBrokerAgreed()
    {
        using var broker = RawSocket.Router();
        await using var worker = new Worker(new WorkerOptions { Endpoint = broker.Endpoint, Service = "echo", Concurrency = 3, HeartbeatInterval = TimeSpan.FromSeconds(30) }, async (data, reply, _) =>
        {
            await reply.WriteAsync("p");
            await reply.EndAsync(data.GetString());
        });
        await worker.StartAsync();
        var id = broker.ReceiveMatching(1, "W", "1")[0];

        broker.Send(B(id), V2(WorkerRequest, 0, "c1", "echo", "r1", "\"a\""));
        Assert.Equal(["W", "6", "c1", "", "r1", "0", "\"p\"", "{}"], broker.ReceiveMatching(1, "W", "6")[1..]);
        broker.ReceiveMatching(1, "W", "3", "c1", "", "r1", "0", "\"a\"");

        broker.Send(id, "W", "1", "{\"v\":2}");
        broker.Send(B(id), V2(WorkerRequest, HasOptions, "c1", "echo", "r2", "\"b\"", "{\"timeout\":1000}"));
        var replies = ReceiveV2(broker, 2);
        Assert.Equal(V2(WorkerPartial, HasOptions, "c1", "r2", "\"p\"", "{}"), replies[0]);
        Assert.Equal(V2(WorkerFinal, HasOptions, "c1", "r2", "\"b\"", "{}"), replies[1]);
    }

    [Theory]
    [InlineData(Framing.Auto, Framing.Auto)]
    [InlineData(Framing.Auto, Framing.V1)]
    [InlineData(Framing.V1, Framing.Auto)]
    public async Task MixedFramings_ThroughABroker_StreamAndFail_AsUsual(Framing clientFraming, Framing workerFraming)
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("echo", async (data, reply, _) =>
        {
            if (data.GetString() == "fail")
            {
                await reply.ErrorAsync("bad");
                return;
            }

            await reply.WriteAsync("part");
            await reply.EndAsync(data.GetString());
        }, o => o with { Framing = workerFraming });
        await using var client = await harness.StartClientAsync(o => o with { Framing = clientFraming });

        var parts = new List<string>();
        await foreach (var part in client.RequestStreamAsync<string>("echo", "x", cancellationToken: Bounded.Token()))
        {
            parts.Add(part.Data!);
        }

        Assert.Equal(["part", "x"], parts);
        var error = await Assert.ThrowsAsync<PigatoReplyException>(() => client.RequestAsync<string>("echo", "fail", cancellationToken: Bounded.Token()).AsTask());
        Assert.Equal("bad", error.Error.GetString());
    }

    /// <summary>Sends requests until one goes out as a v2 frame (the hello's answer reaches the client's loop asynchronously).</summary>
    private static async Task<(string Rid, Task<string?> Reply)> SendUntilV2Async(Client client, RawSocket broker)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var reply = client.RequestAsync<string>("echo", "b").AsTask();
            var frames = broker.ReceiveWhere(f => f.Length == 2 || StartsWith(f[1..], "C", "2"), "a request");
            if (frames.Length == 2)
            {
                Assert.Equal([0x02, ClientRequest, HasOptions, 4, (byte)'e', (byte)'c', (byte)'h', (byte)'o'], frames[1][..8]);
                return (Rid(frames[1]), reply);
            }

            broker.Send(B(Encoding.UTF8.GetString(frames[0])), V2(ClientFinal, 0, Encoding.UTF8.GetString(frames[4]), "\"v1\""));
            await reply.WaitAsync(Bounded.Timeout);
        }

        Assert.Fail("The client never switched to v2.");
        return default;
    }

    /// <summary>
    /// The next <paramref name="count"/> v2 messages a ROUTER receives, alone or in batch frames (kind 0x00, each field a
    /// message: what one loop callback of a .NET peer sent). Every message here is under 128 bytes (one-byte lengths).
    /// </summary>
    private static List<byte[]> ReceiveV2(RawSocket broker, int count)
    {
        var messages = new List<byte[]>();
        while (messages.Count < count)
        {
            var frame = broker.ReceiveWhere(f => f.Length == 2 && f[1].Length > 2 && f[1][0] == 0x02, "a v2 frame")[1];
            if (frame[1] != 0x00)
            {
                messages.Add(frame);
                continue;
            }

            Assert.Equal(0, frame[2]);
            for (var at = 3; at < frame.Length; at += 1 + frame[at])
            {
                Assert.True(frame[at] < 128);
                messages.Add(frame[(at + 1)..(at + 1 + frame[at])]);
            }
        }

        Assert.Equal(count, messages.Count);
        return messages;
    }

    /// <summary>The rid of a v2 client request: its second field.</summary>
    private static string Rid(byte[] frame)
    {
        var serviceLength = frame[3];
        var at = 4 + serviceLength;
        return Encoding.UTF8.GetString(frame, at + 1, frame[at]);
    }
}
