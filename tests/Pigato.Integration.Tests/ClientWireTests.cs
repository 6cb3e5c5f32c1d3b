using System.Text.Json;
using Pigato.TestUtilities;
using Pigato.Protocol;

namespace Pigato.Integration.Tests;

/// <summary>A client's exact frames and its handling of bad input, with a raw ROUTER playing the broker.</summary>
public class ClientWireTests
{
    private static async Task<(Client Client, List<PigatoErrorEventArgs> Errors)> StartClientAsync(RawSocket broker)
    {
        // The raw broker answers no heartbeat: a large liveness keeps the client from reconnecting meanwhile.
        var client = new Client(new ClientOptions { Endpoint = broker.Endpoint, HeartbeatInterval = TimeSpan.FromMilliseconds(200), Liveness = 1000, Prefix = "wire" });
        var errors = new List<PigatoErrorEventArgs>();
        client.Error += (_, e) =>
        {
            lock (errors)
            {
                errors.Add(e);
            }
        };
        await client.StartAsync();
        return (client, errors);
    }

    [Fact]
    public async Task Start_SendsHeartbeat_AndFirstAnswerMeansConnected()
    {
        using var broker = RawSocket.Router();
        var (client, _) = await StartClientAsync(broker);
        await using var _ = client;
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Connected += (_, _) => connected.TrySetResult();

        var heartbeat = broker.ReceiveMatching(1, "C", "4");
        Assert.Equal([client.Id!, "C", "4"], heartbeat);
        Assert.StartsWith("wire-", client.Id);
        broker.Send(client.Id!, "C", "4");

        await connected.Task.WithinAsync("the client to report connected");
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task BrokerStartedAgainOnItsPort_TheConnectionComesBackUnderTheSameIdentity_PersistRequestsAreSentAgainUnderTheirRid()
    {
        // One broker, library defaults: ZeroMQ reconnects the same identity, and a broker that restarted knows nothing of
        // what was sent to its predecessor but not stored yet.
        var first = RawSocket.Router();
        var endpoint = first.Endpoint;
        var (client, _) = await StartClientAsync(first);
        await using var _ = client;
        var durable = client.RequestAsync<string>("pay", 1, new RequestOptions { Persist = true, Timeout = TimeSpan.FromSeconds(60) }, Bounded.Token()).AsTask();
        var sent = first.ReceiveMatching(1, "C", "2", "pay");
        Assert.Contains("\"persist\":true", sent[6], StringComparison.Ordinal);
        first.Send(sent[0], "C", "4");
        await Bounded.UntilAsync(() => client.IsConnected, "the client hears its broker");

        first.Dispose();
        using var second = RawSocket.Router(endpoint);
        var again = second.ReceiveMatching(1, "C", "2", "pay");

        Assert.Equal(sent[0], again[0]);
        Assert.Equal(sent[4], again[4]);
        second.Send(again[0], "C", "3", "", again[4], "0", "\"paid\"", "{}");
        Assert.Equal("paid", await durable.WithinAsync("the persist request's reply from the broker started again"));
    }

    [Fact]
    public async Task Request_SendsOptionsFrame_AndStreamsPartialsThenFinal()
    {
        using var broker = RawSocket.Router();
        var (client, _) = await StartClientAsync(broker);
        await using var _ = client;
        var options = new RequestOptions { Timeout = TimeSpan.FromSeconds(30), Retry = true, WorkerId = "W1", Fields = new Dictionary<string, object?> { ["tenant"] = "acme" } };

        var replies = Task.Run(async () =>
        {
            var received = new List<PigatoReply<string>>();
            await foreach (var reply in client.RequestStreamAsync<string>("echo", new { a = 1 }, options, Bounded.Token()))
            {
                received.Add(reply);
            }

            return received;
        });

        var request = broker.ReceiveMatching(1, "C", "2");
        Assert.Equal(7, request.Length);
        Assert.Equal("echo", request[3]);
        Assert.Equal("{\"a\":1}", request[5]);
        using var sent = JsonDocument.Parse(request[6]);
        Assert.Equal(30000, sent.RootElement.GetProperty("timeout").GetInt32());
        Assert.Equal(1, sent.RootElement.GetProperty("retry").GetInt32());
        Assert.Equal("W1", sent.RootElement.GetProperty("workerId").GetString());
        Assert.Equal("acme", sent.RootElement.GetProperty("tenant").GetString());

        var (id, rid) = (request[0], request[4]);
        broker.Send(id, "C", "6", "", rid, "0", "\"p1\"", "{}");
        broker.Send(id, "C", "6", "", rid, "0", "\"p2\"");
        broker.Send(id, "C", "3", "", rid, "0", "\"end\"", "undefined");

        Assert.Equal([new("p1", false), new("p2", false), new("end", true)], await replies.WithinAsync("the reply stream"));
        Assert.Equal(0, client.PendingCount);
    }

    [Fact]
    public async Task OptionsPassedAgain_OrEqualButForOneValue_EachRequestCarriesItsOwn()
    {
        using var broker = RawSocket.Router();
        var (client, _) = await StartClientAsync(broker);
        await using var _ = client;
        var options = new RequestOptions { Timeout = TimeSpan.FromSeconds(30), Retry = true };
        var fields = new Dictionary<string, object?> { ["tenant"] = "acme" };
        var withFields = options with { Fields = fields };

        async Task<string> SentAsync(RequestOptions each)
        {
            var call = client.RequestAsync<string>("echo", "x", each, Bounded.Token()).AsTask();
            var request = broker.ReceiveMatching(1, "C", "2");
            broker.Send(request[0], "C", "3", "", request[4], "0", "\"ok\"", "{}");
            Assert.Equal("ok", await call.WithinAsync("the reply"));
            return request[6];
        }

        Assert.Equal("{\"timeout\":30000,\"retry\":1}", await SentAsync(options));
        Assert.Equal("{\"timeout\":30000,\"retry\":1}", await SentAsync(options));
        Assert.Equal("{\"timeout\":30000,\"retry\":1}", await SentAsync(new RequestOptions { Timeout = TimeSpan.FromSeconds(30), Retry = true }));
        Assert.Equal("{\"timeout\":5000,\"retry\":1}", await SentAsync(options with { Timeout = TimeSpan.FromSeconds(5) }));
        Assert.Equal("{\"timeout\":30000,\"retry\":1,\"workerId\":\"W1\"}", await SentAsync(options with { WorkerId = "W1" }));
        Assert.Equal("{\"timeout\":30000,\"retry\":1,\"tenant\":\"acme\"}", await SentAsync(withFields));
        fields["tenant"] = "other";
        Assert.Equal("{\"timeout\":30000,\"retry\":1,\"tenant\":\"other\"}", await SentAsync(withFields));
        Assert.Equal("{\"timeout\":30000,\"retry\":1}", await SentAsync(options));
    }

    [Fact]
    public async Task ErrorReply_WithUndefinedOptions_FailsWithWorkerErrorValue()
    {
        using var broker = RawSocket.Router();
        var (client, _) = await StartClientAsync(broker);
        await using var _ = client;

        var call = client.RequestAsync<string>("echo", "x").AsTask();
        var request = broker.ReceiveMatching(1, "C", "2");
        broker.Send(request[0], "C", "3", "", request[4], "-1", "{\"code\":42}", "undefined");

        var error = await Assert.ThrowsAsync<PigatoReplyException>(() => call.WithinAsync("the error reply"));
        Assert.Equal(42, error.Error.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task BadInput_RaisesErrorEventsWithCodes_AndClientKeepsWorking()
    {
        using var broker = RawSocket.Router();
        var (client, errors) = await StartClientAsync(broker);
        await using var _ = client;
        var id = broker.ReceiveMatching(1, "C", "4")[0];

        broker.Send(id, "X", "3", "", "rid", "0");
        broker.Send(id, "C", "3", "", "rid");
        broker.Send(id, "C", "3", "", "no-such-rid", "0", "null");
        broker.Send(id, "C", "9", "", "rid", "0");

        string[] expected = [PigatoErrorCodes.MessageHeader, PigatoErrorCodes.MessageLength, PigatoErrorCodes.RequestInvalid, PigatoErrorCodes.MessageType];
        await Bounded.UntilAsync(() => { lock (errors) { return errors.Count >= 4; } }, "four error events");
        lock (errors)
        {
            Assert.Equal(expected, errors.Select(e => e.Code));
        }

        var call = client.RequestAsync<string>("echo", "still").AsTask();
        var request = broker.ReceiveMatching(1, "C", "2");
        broker.Send(id, "C", "3", "", request[4], "0", request[5], "{}");
        Assert.Equal("still", await call.WithinAsync("a reply after bad input"));
    }

    [Fact]
    public async Task RequestHeartbeats_AreSentForLongRequests()
    {
        using var broker = RawSocket.Router();
        var (client, _) = await StartClientAsync(broker);
        await using var _ = client;

        var call = client.RequestAsync<string>("slow", null).AsTask();
        var request = broker.ReceiveMatching(1, "C", "2");
        Assert.Equal([request[0], "C", "4", "request", request[4]], broker.ReceiveMatching(1, "C", "4", "request"));

        client.SendRequestHeartbeat(request[4]);
        broker.ReceiveMatching(1, "C", "4", "request", request[4]);
        broker.Send(request[0], "C", "3", "", request[4], "0", "\"ok\"", "{}");
        Assert.Equal("ok", await call.WithinAsync("the reply"));
    }
}
