using System.Text;
using Pigato.Protocol;
using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>An <see cref="IBrokerOutput"/> that records every decision as a line of text, and can refuse sends to chosen peers.</summary>
internal sealed class RecordingOutput : IBrokerOutput
{
    public List<string> Sent { get; } = [];

    public List<string> Errors { get; } = [];

    public List<string> Directories { get; } = [];

    /// <summary>Peers whose sends fail (gone, or their queue full).</summary>
    public HashSet<string> Unreachable { get; } = [];

    /// <summary>The recorded lines starting with <paramref name="prefix"/>.</summary>
    public string[] Of(string prefix) => Sent.Where(s => s.StartsWith(prefix, StringComparison.Ordinal)).ToArray();

    /// <summary>Workers whose pipe is full: requests to them are queued (they become busy).</summary>
    public HashSet<string> Full { get; } = [];

    public long QueuedBytes => 0;

    /// <summary>Bytes waiting in each peer's outbound queue, as the tests set them.</summary>
    public Dictionary<string, long> QueuedFor { get; } = [];

    public long QueuedBytesFor(ReadOnlySpan<byte> identity) => QueuedFor.GetValueOrDefault(Id(identity));

    public string? AddressOf(ReadOnlySpan<byte> identity) => "10.0.0.1:4242";

    /// <summary>Workers spoken to in batches (v2): a request to them is <see cref="SendResult.Sent"/> at once, its real outcome comes later (<see cref="CoreHarness.FailBatch"/>).</summary>
    public HashSet<string> Batching { get; } = [];

    /// <summary>The requests waiting in each batching worker's batch.</summary>
    public Dictionary<string, List<BrokerRequest>> Batches { get; } = [];

    /// <summary>The options frame each request (by rid) last went to a worker with.</summary>
    public Dictionary<string, string> OptionsSent { get; } = [];

    public SendResult SendRequest(BrokerWorker worker, BrokerRequest request)
    {
        OptionsSent[request.Rid] = Encoding.UTF8.GetString(request.Options);
        if (Batching.Contains(worker.Id))
        {
            Sent.Add($"request {worker.Id} {request.Rid}");
            (Batches.TryGetValue(worker.Id, out var batch) ? batch : Batches[worker.Id] = []).Add(request);
            return SendResult.Sent;
        }

        return Full.Contains(worker.Id) ? SendResult.Queued : Record(worker.Id, $"request {worker.Id} {request.Rid}") ? SendResult.Sent : SendResult.Unreachable;
    }

    /// <summary>The peers the core told the output to forget, in order.</summary>
    public List<string> Forgotten { get; } = [];

    public void ForgetPeer(ReadOnlySpan<byte> identity) => Forgotten.Add(Id(identity));

    /// <summary>Clients whose outbound queue is full: a reply relayed to them overflows (an error past the bound still goes).</summary>
    public HashSet<string> Overflowing { get; } = [];

    public SendResult RelayReply(BrokerRequest request, in MessageFields reply)
    {
        var client = Id(request.ReplyTo!);
        return Overflowing.Contains(client) ? SendResult.Overflow
            : Record(client, $"relay {client} {request.Rid}") ? SendResult.Sent : SendResult.Unreachable;
    }

    public byte[][] CopyReply(in MessageFields reply) => [reply.Status.ToArray(), reply.Data.ToArray(), reply.Options.ToArray()];

    public bool SendKeptReply(ReadOnlySpan<byte> clientId, BrokerRequest request, byte[][] reply) => Record(Id(clientId), $"kept-reply {Id(clientId)} {request.Rid}");

    public bool SendError(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, string code, bool pastTheBound = false) =>
        (pastTheBound || !Overflowing.Contains(Id(clientId))) && Record(Id(clientId), $"error {Id(clientId)} {Id(rid)} {code}{(pastTheBound ? " past the bound" : "")}");

    /// <summary>The data of the replies the broker answered itself (<c>$stats</c>), in order.</summary>
    public List<string> Replies { get; } = [];

    public bool SendReply(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, byte[] data)
    {
        Replies.Add(Encoding.UTF8.GetString(data));
        return Record(Id(clientId), $"reply {Id(clientId)} {Id(rid)}");
    }

    public bool ForwardRequestHeartbeat(BrokerWorker worker, BrokerRequest request) => Record(worker.Id, $"request-heartbeat {worker.Id} {request.Rid}");

    public bool ForwardCancel(BrokerWorker worker, BrokerRequest request) => Record(worker.Id, $"cancel {worker.Id} {request.Rid}");

    /// <summary>Recorded with the framing the worker announced (<c>v2</c>), which the output agrees on (or not) below the core.</summary>
    public bool SendReadyAnswer(BrokerWorker worker, int version) => Record(worker.Id, $"ready {worker.Id}{Announced(version)}");

    public bool SendHelloAnswer(ReadOnlySpan<byte> clientId, int version) => Record(Id(clientId), $"hello {Id(clientId)}{Announced(version)}");

    private static string Announced(int version) => version >= 2 ? " v2" : "";

    public bool SendWorkerHeartbeat(BrokerWorker worker) => Record(worker.Id, $"heartbeat {worker.Id}");

    public bool SendClientHeartbeat(ReadOnlySpan<byte> clientId) => Record(Id(clientId), $"client-heartbeat {Id(clientId)}");

    public void SendDisconnect(ReadOnlySpan<byte> identity) => Record(Id(identity), $"disconnect {Id(identity)}");

    public void PublishDirectory(byte[] frame) => Directories.Add(Encoding.UTF8.GetString(frame));

    public void ReportError(string code, string message, string? peerId) => Errors.Add($"{code} {peerId}");

    private static string Id(ReadOnlySpan<byte> identity) => Encoding.UTF8.GetString(identity);

    private bool Record(string peer, string line)
    {
        if (Unreachable.Contains(peer))
        {
            return false;
        }

        Sent.Add(line);
        return true;
    }
}
