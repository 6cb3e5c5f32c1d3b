using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Pigato.Protocol;
using Pigato.Routing;

namespace Pigato.Benchmarks;

/// <summary>
/// The broker's rules for one request, without sockets: a client's request dispatched to a worker, then its final
/// reply. What the core adds to a request's broker CPU, repeatable on a noisy machine (the end-to-end benchmark is not).
/// </summary>
[MemoryDiagnoser]
public class BrokerCoreBenchmarks
{
    // Identities as Pigato's peers make them (prefix + uuid, then "-" + a uuid per connection): the table's keys are this long.
    private static readonly byte[] Client = Encoding.UTF8.GetBytes($"C{Guid.NewGuid()}-{Guid.NewGuid()}");
    private static readonly byte[] Worker = Encoding.UTF8.GetBytes($"W{Guid.NewGuid()}-{Guid.NewGuid()}");
    private static readonly byte[] Service = Encoding.UTF8.GetBytes("echo");
    private static readonly byte[] Data = Encoding.UTF8.GetBytes("\"abc\"");
    private static readonly byte[] Options = Encoding.UTF8.GetBytes("{\"timeout\":60000,\"retry\":0}");
    private static readonly byte[] Ok = Encoding.UTF8.GetBytes("0");

    private readonly byte[][] _rids = [.. Enumerable.Range(0, 1024).Select(i => Encoding.UTF8.GetBytes(Guid.NewGuid().ToString()))];
    private BrokerCore _core = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _core = new BrokerCore(new BrokerOptions(), new NullOutput(), TimeProvider.System, NullLogger.Instance, new BrokerMetrics("bench", () => BrokerStats.Empty));
        _core.WorkerReady(Worker, Service, Encoding.UTF8.GetBytes("{\"concurrency\":-1}"));
    }

    [Benchmark]
    public void RequestThenFinalReply()
    {
        var rid = _rids[_next++ & 1023];
        _core.ClientRequest(Client, Service, rid, Data, Options, 64);
        _core.WorkerReply(Worker, new MessageFields { Kind = PigatoMessageKind.WorkerFinalReply, ClientId = Client, Rid = rid, Status = Ok, Data = Data });
    }

    /// <summary>Every send succeeds and costs nothing.</summary>
    private sealed class NullOutput : IBrokerOutput
    {
        public long QueuedBytes => 0;

        public long QueuedBytesFor(ReadOnlySpan<byte> identity) => 0;

        public string? AddressOf(ReadOnlySpan<byte> identity) => null;

        public SendResult SendRequest(BrokerWorker worker, BrokerRequest request) => SendResult.Sent;

        public void ForgetPeer(ReadOnlySpan<byte> identity)
        {
        }

        public SendResult RelayReply(BrokerRequest request, in MessageFields reply) => SendResult.Sent;

        public byte[][] CopyReply(in MessageFields reply) => [];

        public bool SendKeptReply(ReadOnlySpan<byte> clientId, BrokerRequest request, byte[][] reply) => true;

        public bool SendError(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, string code, bool pastTheBound = false) => true;

        public bool SendReply(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, byte[] data) => true;

        public bool SendHelloAnswer(ReadOnlySpan<byte> clientId, int version) => true;

        public bool ForwardRequestHeartbeat(BrokerWorker worker, BrokerRequest request) => true;

        public bool ForwardCancel(BrokerWorker worker, BrokerRequest request) => true;

        public bool SendReadyAnswer(BrokerWorker worker, int version) => true;

        public bool SendWorkerHeartbeat(BrokerWorker worker) => true;

        public bool SendClientHeartbeat(ReadOnlySpan<byte> clientId) => true;

        public void SendDisconnect(ReadOnlySpan<byte> identity)
        {
        }

        public void PublishDirectory(byte[] frame)
        {
        }

        public void ReportError(string code, string message, string? peerId)
        {
        }
    }
}
