using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>
/// What carries a client's or worker's connection (<see cref="ConnectionTransport"/>): Pigato's own ZMTP (the default
/// for tcp://, plain or CURVE) and NetMQ serve alike, and the ZMTP side keeps to the handshake a libzmq broker expects.
/// </summary>
public class ConnectionTransportTests
{
    [Theory]
    [InlineData(ConnectionTransport.Auto)]
    [InlineData(ConnectionTransport.NetMQ)]
    public async Task EitherTransport_ServesPartialsAndLargeMessages(ConnectionTransport transport)
    {
        await using var h = await PigatoHarness.StartAsync();
        await StartPartialEchoAsync(h, o => o with { Transport = transport });
        var client = await h.StartClientAsync(o => o with { Transport = transport });

        await AssertServesPartialsLargeAndManyAsync(client);
    }

    [Theory]
    [InlineData(ConnectionTransport.Auto, ConnectionTransport.Auto, ConnectionTransport.Auto)]
    [InlineData(ConnectionTransport.Auto, ConnectionTransport.NetMQ, ConnectionTransport.Auto)]
    [InlineData(ConnectionTransport.NetMQ, ConnectionTransport.Auto, ConnectionTransport.Auto)]
    public async Task WithCurve_OwnTransportAndNetMQ_ServeEachOther(ConnectionTransport broker, ConnectionTransport worker, ConnectionTransport client)
    {
        // CURVE on Pigato's own transport answers NetMQ's (libzmq's protocol) on either side: a NetMQ worker through our
        // broker, our client and worker through NetMQ's broker; partials, 3 MiB each way, 500 at once.
        var keys = Security.CurveKeys.Generate();
        await using var h = await PigatoHarness.StartAsync(new BrokerOptions { CurveSecretKey = keys.SecretKey, Transport = broker });
        await StartPartialEchoAsync(h, o => o with { Transport = worker, CurveServerKey = keys.PublicKey });
        var c = await h.StartClientAsync(o => o with { Transport = client, CurveServerKey = keys.PublicKey });

        await AssertServesPartialsLargeAndManyAsync(c);
    }

    [Fact]
    public async Task APlainClient_CannotTalkToACurveBroker_NorTheOtherWayRound()
    {
        // The mechanisms must match: a plain client is dropped by a CURVE broker before any message, and a CURVE client
        // by a plain broker; neither is served in plain text.
        var keys = Security.CurveKeys.Generate();
        await using var curve = await PigatoHarness.StartAsync(new BrokerOptions { CurveSecretKey = keys.SecretKey });
        await curve.StartWorkerAsync("echo", (data, reply, _) => reply.EndAsync(data), o => o with { CurveServerKey = keys.PublicKey });
        var plainClient = await curve.StartClientAsync();
        await using var plain = await PigatoHarness.StartAsync();
        await plain.StartWorkerAsync("echo", (data, reply, _) => reply.EndAsync(data));
        var curveClient = await plain.StartClientAsync(o => o with { CurveServerKey = keys.PublicKey });

        var quick = new RequestOptions { Timeout = TimeSpan.FromMilliseconds(500) };
        await Assert.ThrowsAnyAsync<PigatoException>(() => plainClient.RequestAsync<string>("echo", "x", quick, Bounded.Token()).AsTask());
        await Assert.ThrowsAnyAsync<PigatoException>(() => curveClient.RequestAsync<string>("echo", "x", quick, Bounded.Token()).AsTask());
    }

    [Theory]
    [InlineData(ConnectionTransport.Auto, Framing.V1)]
    [InlineData(ConnectionTransport.Auto, Framing.Auto)]
    [InlineData(ConnectionTransport.NetMQ, Framing.V1)]
    public async Task ALongStreamOfPartials_ArrivesWhole(ConnectionTransport transport, Framing framing)
    {
        const int Partials = 50_000;
        var log = new ListLogger();
        await using var h = await PigatoHarness.StartAsync();
        await h.StartWorkerAsync("stream", async (_, reply, _) =>
        {
            var chunk = new string('x', 1024);
            for (var i = 0; i < Partials; i++)
            {
                await reply.WriteAsync(chunk);
            }

            await reply.EndAsync("end");
        }, o => o with { Transport = transport, Framing = framing, LoggerFactory = new Microsoft.Extensions.Logging.LoggerFactory([log]) });
        var client = await h.StartClientAsync(o => o with { Transport = transport, Framing = framing, MaxBufferedReplies = Partials + 1, LoggerFactory = new Microsoft.Extensions.Logging.LoggerFactory([log]) });

        var received = 0;
        try
        {
            await foreach (var reply in client.RequestStreamAsync<string>("stream", null, new RequestOptions { Timeout = TimeSpan.FromSeconds(20) }, Bounded.Token(TimeSpan.FromSeconds(30))))
            {
                received += reply.IsFinal ? 0 : 1;
            }
        }
        catch (Exception e)
        {
            Assert.Fail($"{received} partials, then {e.Message}; logs: " + string.Join(" | ", log.Lines.Concat(h.BrokerLog.Lines).Where(l => !l.Contains("Debug", StringComparison.Ordinal)).Take(30)));
        }

        Assert.True(Partials == received, $"{received} partials; logs: " + string.Join(" | ", log.Lines.Concat(h.BrokerLog.Lines).Where(l => !l.Contains("Debug", StringComparison.Ordinal)).Take(30)));
    }

    [Fact]
    public async Task RequestsMadeWhileNoBrokerListens_LeaveWhenOneDoes_AfterFailedAttempts()
    {
        // ZeroMQ keeps what a DEALER sends until it connects: so must Pigato's own link, across refused attempts.
        var endpoint = Ports.FreeEndpoint();
        var log = new ListLogger();
        await using var client = new Client(new ClientOptions { Endpoint = endpoint, LoggerFactory = new Microsoft.Extensions.Logging.LoggerFactory([log]) });
        await client.StartAsync();
        var answer = client.RequestAsync<string>("echo", "kept", new RequestOptions { Timeout = TimeSpan.FromSeconds(30) }, Bounded.Token()).AsTask();
        await Bounded.UntilAsync(() => log.Lines.Count(l => l.Contains("connecting failed", StringComparison.Ordinal)) >= 2, "two refused connection attempts");

        await using var broker = new Broker(new BrokerOptions { Endpoint = endpoint });
        await broker.StartAsync();
        await using var worker = new Worker(new WorkerOptions { Endpoint = endpoint, Service = "echo" }, (data, reply, _) => reply.EndAsync(data));
        await worker.StartAsync();

        Assert.Equal("kept", await answer.WithinAsync("the request made before the broker listened"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ARefusal_NamesThePeersAddress_OnTheBrokersOwnTransport(bool curve)
    {
        var keys = Security.CurveKeys.Generate();
        await using var h = await PigatoHarness.StartAsync(new BrokerOptions { MaxServiceNameLength = 8, CurveSecretKey = curve ? keys.SecretKey : null });
        var client = await h.StartClientAsync(o => o with { CurveServerKey = curve ? keys.PublicKey : null });

        await Assert.ThrowsAsync<PigatoBrokerException>(() => client.RequestAsync<string>("a-very-long-service", "x", cancellationToken: Bounded.Token()).AsTask());
        await Bounded.UntilAsync(
            () => h.BrokerLog.Lines.Any(l => l.Contains(PigatoErrorCodes.FrameTooLong, StringComparison.Ordinal) && l.Contains($"refused {client.Id} (from 127.0.0.1:", StringComparison.Ordinal)),
            "a refusal line naming the client and the address it connected from: " + string.Join(" | ", h.BrokerLog.Lines.Where(l => l.Contains("refused", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task Handshake_ReadyFollowsTheBrokersGreeting_AndPingsAreAnswered()
    {
        // A broker written from ZMTP 3.0 itself: libzmq closes a connection whose READY arrives with the greeting,
        // before it sent its own, so the client must wait for the broker's greeting.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = $"tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        await using var client = new Client(new ClientOptions { Endpoint = endpoint, Prefix = "zmtp", Liveness = 1000 });
        await client.StartAsync();
        using var peer = await listener.AcceptSocketAsync(Bounded.Token());

        var greeting = await ReadExactlyAsync(peer, 64);
        Assert.Equal(0xFF, greeting[0]);
        Assert.Equal(3, greeting[10]);
        Assert.Equal("NULL", Encoding.ASCII.GetString(greeting, 12, 4));
        Assert.False(peer.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead), "nothing follows the greeting before the broker's");

        await peer.SendAsync(greeting);
        var ready = await ReadCommandAsync(peer);
        Assert.Equal("READY", ready.Name);
        Assert.Contains("Socket-Type\0\0\0\u0006DEALER", ready.Text, StringComparison.Ordinal);
        Assert.Contains(client.Id!, ready.Text, StringComparison.Ordinal);

        await peer.SendAsync(Command("READY", [.. Property("Socket-Type", "ROUTER")]));
        await peer.SendAsync(Command("PING", [0, 10, .. "ctx"u8]));
        var pong = await ReadCommandAsync(peer);
        Assert.Equal("PONG", pong.Name);
        Assert.EndsWith("ctx", pong.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APeerThatNeverEndsItsMessage_IsCutOff_AndTheBrokerServesOn()
    {
        // Frames each under the limit, "more" for ever: the broker's own transport ends the connection once the unfinished
        // message passes twice the largest frame, instead of buffering it without bound.
        await using var h = await PigatoHarness.StartAsync(new BrokerOptions { MaxMessageSize = 1024 });
        await h.StartWorkerAsync("echo", (data, reply, _) => reply.EndAsync(data));
        var port = int.Parse(h.Endpoint[(h.Endpoint.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        using var peer = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await peer.ConnectAsync(IPAddress.Loopback, port, Bounded.Token());
        var greeting = new byte[64];
        greeting[0] = 0xFF;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        "NULL"u8.CopyTo(greeting.AsSpan(12));
        await peer.SendAsync(greeting);
        await ReadExactlyAsync(peer, 64);
        await peer.SendAsync(Command("READY", [.. Property("Socket-Type", "DEALER"), .. Property("Identity", "endless")]));

        var frame = new byte[2 + 255];
        frame[0] = 0x01; // more
        frame[1] = 255;
        var closed = false;
        for (var sent = 0; sent < 4_000 && !closed; sent++) // 1 MB, far past twice the largest frame (2 x 65 KiB)
        {
            try
            {
                await peer.SendAsync(frame);
            }
            catch (SocketException)
            {
                closed = true;
            }
        }

        var buffer = new byte[4096];
        while (!closed)
        {
            try
            {
                closed = await peer.ReceiveAsync(buffer, Bounded.Token()) == 0;
            }
            catch (SocketException)
            {
                closed = true;
            }
        }

        var client = await h.StartClientAsync();
        Assert.Equal("still", await client.RequestAsync<string>("echo", "still", cancellationToken: Bounded.Token()));
    }

    /// <summary>An "echo" worker that sends one partial ("partial") before echoing the data.</summary>
    private static Task<Worker> StartPartialEchoAsync(PigatoHarness h, Func<WorkerOptions, WorkerOptions> configure) =>
        h.StartWorkerAsync("echo", async (data, reply, _) =>
        {
            await reply.WriteAsync("partial");
            await reply.EndAsync(data);
        }, configure);

    /// <summary>
    /// A partial and a final of 3 MiB each way (many reads and buffer growth on the ZMTP side, one message on NetMQ's),
    /// then 500 requests at once, all answered.
    /// </summary>
    private static async Task AssertServesPartialsLargeAndManyAsync(Client client)
    {
        var large = new string('x', 3 << 20);
        var replies = new List<string>();
        await foreach (var reply in client.RequestStreamAsync<string>("echo", large, cancellationToken: Bounded.Token()))
        {
            replies.Add(reply.IsFinal ? $"final {reply.Data!.Length}" : reply.Data!);
        }

        Assert.Equal(["partial", $"final {large.Length}"], replies);
        var answers = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => client.RequestAsync<int>("echo", i, cancellationToken: Bounded.Token()).AsTask()));
        Assert.Equal(Enumerable.Range(0, 500), answers);
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        for (var read = 0; read < count;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), Bounded.Token());
            Assert.True(n > 0, "the client closed the connection");
            read += n;
        }

        return buffer;
    }

    /// <summary>The next frame, a command (short or long), skipping messages: its name and its body as text.</summary>
    private static async Task<(string Name, string Text)> ReadCommandAsync(Socket socket)
    {
        for (var frames = 0; frames < 100; frames++)
        {
            var flags = (await ReadExactlyAsync(socket, 1))[0];
            var size = (flags & 0x02) != 0
                ? (int)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(socket, 8))
                : (await ReadExactlyAsync(socket, 1))[0];
            var body = await ReadExactlyAsync(socket, size);
            if ((flags & 0x04) != 0)
            {
                return (Encoding.ASCII.GetString(body, 1, body[0]), Encoding.UTF8.GetString(body));
            }
        }

        throw new InvalidOperationException("no command in 100 frames");
    }

    private static byte[] Command(string name, byte[] data) =>
        [0x04, (byte)(1 + name.Length + data.Length), (byte)name.Length, .. Encoding.ASCII.GetBytes(name), .. data];

    private static IEnumerable<byte> Property(string name, string value)
    {
        var size = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(size, value.Length);
        return [(byte)name.Length, .. Encoding.ASCII.GetBytes(name), .. size, .. Encoding.ASCII.GetBytes(value)];
    }
}
