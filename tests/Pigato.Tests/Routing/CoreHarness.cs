using System.Text;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Pigato.Protocol;
using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>A <see cref="BrokerCore"/> with a fake clock and a recording output, and short-hands for peers' messages.</summary>
internal sealed class CoreHarness
{
    public CoreHarness(BrokerOptions? options = null, int seed = 1, IRequestJournal? journal = null)
    {
        Options = options ?? new BrokerOptions { Liveness = 3 };
        Metrics = new BrokerMetrics("test", () => Core!.Stats());
        Core = new BrokerCore(Options, Output, Time, Logger, Metrics, random: new Random(seed), journal: journal);
    }

    /// <summary>What the core logged.</summary>
    public FakeLogger Logger { get; } = new();

    public BrokerMetrics Metrics { get; }

    public BrokerOptions Options { get; }

    public FakeTimeProvider Time { get; } = new();

    public RecordingOutput Output { get; } = new();

    public BrokerCore Core { get; }

    public void Ready(string worker, string service, int? concurrency = null) =>
        Core.WorkerReady(B(worker), B(service), concurrency is { } n ? B($"{{\"concurrency\":{n}}}") : []);

    public void Heartbeat(string worker, int? concurrency = null) =>
        Core.WorkerHeartbeat(B(worker), concurrency is { } n ? B($"{{\"concurrency\":{n}}}") : []);

    public void Request(string client, string service, string rid, string options = "{}", string data = "null") =>
        Core.ClientRequest(B(client), B(service), B(rid), B(data), B(options), 2 + B(service).Length + B(rid).Length + B(data).Length + B(options).Length);

    public void ClientHeartbeat(string client) => Core.ClientHeartbeat(B(client));

    /// <summary>A .NET client's hello with a credential (<c>C, 4, hello, {"principal":…,"token":…}</c>).</summary>
    public void Hello(string client, string principal, string token) =>
        Core.ClientHello(B(client), System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { principal, token }));

    /// <summary>A worker's heartbeat from a client socket (<c>C, 4, worker, workerId</c>), as PIGATO-RUBY's worker sends it.</summary>
    public void WorkerHeartbeatFromClientSocket(string client, string worker) => Core.ClientWorkerHeartbeat(B(client), B(worker));

    public void Final(string worker, string client, string rid) => Reply(worker, client, rid, final: true, "0", "\"done\"");

    /// <summary>A final reply with status -1 and <paramref name="error"/> (JSON) as its data.</summary>
    public void Error(string worker, string client, string rid, string error) => Reply(worker, client, rid, final: true, "-1", error);

    public void Partial(string worker, string client, string rid) => Reply(worker, client, rid, final: false, "0", "\"partial\"");

    /// <summary>A worker's reply, as the transport decodes it in either framing.</summary>
    public void Reply(string worker, string client, string rid, bool final, string status, string data) =>
        Core.WorkerReply(B(worker), new MessageFields
        {
            Kind = final ? PigatoMessageKind.WorkerFinalReply : PigatoMessageKind.WorkerPartialReply,
            ClientId = B(client),
            Rid = B(rid),
            Status = B(status),
            Data = B(data),
            Options = "{}"u8,
        });

    public void Reject(string worker, string client, string rid) => Core.WorkerReject(B(worker), B(client), B(rid));

    /// <summary>The batch waiting for a batching worker could not be delivered: the worker is gone, or (<paramref name="overflow"/>) a slow consumer.</summary>
    public void FailBatch(string worker, bool overflow = false)
    {
        var batch = Output.Batches.Remove(worker, out var requests) ? requests : [];
        if (overflow)
        {
            Core.SlowConsumer(B(worker), batch.Count, batch);
        }
        else
        {
            Core.PeerGone(B(worker), batch);
        }
    }

    /// <summary>Lets one heartbeat period pass.</summary>
    public void Tick()
    {
        Time.Advance(Options.HeartbeatInterval);
        Core.Tick();
    }

    /// <summary>The worker that got the request <paramref name="rid"/>, or null.</summary>
    public string? WorkerOf(string rid) =>
        Output.Of("request ").Select(line => line.Split(' ')).LastOrDefault(parts => parts[2] == rid)?[1];

    public static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
}
