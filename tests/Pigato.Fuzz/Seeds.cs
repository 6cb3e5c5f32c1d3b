using System.Text;
using Pigato.Internal.Links;
using Pigato.Internal.Links.Curve;
using Pigato.Persistence;
using Pigato.Protocol;
using Pigato.Protocol.Compact;
using Pigato.Security;

namespace Pigato.Fuzz;

/// <summary>The seed corpus: valid inputs of every target, made by Pigato's own encoders, so that the fuzzer starts deep.</summary>
internal static class Seeds
{
    private static readonly ReadOnlyMemory<byte> Service = "echo"u8.ToArray();
    private static readonly ReadOnlyMemory<byte> Rid = "6b1c2a4e-1f7d-4c4e-9a55-0f0e4f6c7d21"u8.ToArray();
    private static readonly ReadOnlyMemory<byte> ClientId = "C6b1c2a4e"u8.ToArray();
    private static readonly ReadOnlyMemory<byte> Data = "{\"ticker\":\"AAPL\",\"days\":[1,2]}"u8.ToArray();
    private static readonly ReadOnlyMemory<byte> Options = """{"timeout":5000,"retry":1,"persist":true,"workerId":"W1","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}"""u8.ToArray();
    private static readonly ReadOnlyMemory<byte> Status = """{"concurrency":20,"v":2,"principal":"billing","token":"t0k3n"}"""u8.ToArray();

    public static int Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var seeds = new List<(string Name, byte[] Bytes)>();
        void V1(int target, string name, Action<FrameList> encode)
        {
            var frames = new FrameList();
            encode(frames);
            seeds.Add(($"{FuzzTargets.Names[target]}-{name}", [(byte)target, .. Frames.Join(frames.Items)]));
        }

        V1(0, "request", w => PigatoEncoder.ClientRequest(w, Service, Rid, Data, Options));
        V1(0, "ready", w => PigatoEncoder.WorkerReady(w, Service, Status));
        V1(0, "reply", w => PigatoEncoder.WorkerReply(w, final: true, ClientId, Rid, PigatoFrames.StatusOk, Data, Options));
        V1(0, "reject", w => PigatoEncoder.WorkerReject(w, ClientId, Rid, Data));
        V1(0, "hello", w => PigatoEncoder.Hello(w, Status));
        V1(0, "heartbeats", w => PigatoEncoder.ClientRequestHeartbeat(w, Rid));
        V1(0, "worker-heartbeat", w => PigatoEncoder.WorkerHeartbeat(w, Status));
        V1(1, "reply", w => PigatoEncoder.ClientReply(w, final: false, Rid, PigatoFrames.StatusOk, Data, Options));
        V1(1, "error", w => PigatoEncoder.ClientReply(w, final: true, Rid, PigatoFrames.StatusError, Data, PigatoFrames.BrokerOrigin));
        V1(2, "request", w => PigatoEncoder.WorkerRequest(w, ClientId, Service, Rid, Data, Options));
        V1(2, "ready-answer", w => PigatoEncoder.WorkerReadyAnswer(w, compact: true));
        V1(2, "request-heartbeat", w => PigatoEncoder.WorkerRequestHeartbeat(w, ClientId, Rid));
        V1(2, "disconnect", PigatoEncoder.WorkerDisconnect);

        seeds.Add(("v2-broker-request", [3, .. Batch(CompactCodec.ClientRequest(Service.Span, Rid.Span, Data.Span, Options.Span))]));
        seeds.Add(("v2-broker-reply", [3, .. Batch(CompactCodec.WorkerReply(MessageType.Reply, ClientId.Span, Rid.Span, error: false, Data.Span, Options.Span))]));
        seeds.Add(("v2-broker-batch", [3, .. Batch(CompactCodec.ClientRequest(Service.Span, Rid.Span, Data.Span, Options.Span), CompactCodec.ClientRequest(Service.Span, ClientId.Span, Data.Span, default))]));
        seeds.Add(("v2-client-reply", [4, .. Batch(CompactCodec.ClientReply(final: true, Rid.Span, error: true, Data.Span, Options.Span))]));
        seeds.Add(("v2-worker-request", [5, .. Batch(CompactCodec.WorkerRequest(ClientId.Span, Service.Span, Rid.Span, Data.Span, Options.Span))]));
        seeds.Add(("json-options", [6, .. Options.Span]));
        seeds.Add(("json-status", [6, .. Status.Span]));
        var (_, hash) = Permissions.NewToken();
        seeds.Add(("permissions", [7, .. Encoding.UTF8.GetBytes("""{"principals":{"api":{"tokenHash":"HASH","request":["billing*"],"serve":[]},"anonymous":{"request":["$dir"]}}}""".Replace("HASH", hash, StringComparison.Ordinal))]));
        seeds.Add(("stored-request", [8, .. new StoredRequest([1, 2, 3], ClientId.ToArray(), "echo", Data.ToArray(), Options.ToArray(), 638_000_000_000_000_000).Encode()]));

        // What a DEALER sends the broker: its greeting, READY (or, with CURVE, HELLO), then a PIGATO request.
        var dealer = new ZmtpSettings("DEALER", "C6b1c2a4e"u8.ToArray(), 64 * 1024);
        var request = new FrameList();
        PigatoEncoder.ClientRequest(request, Service, Rid, Data, Options);
        seeds.Add(("zmtp-router", [9, .. dealer.Greeting, .. ZmtpFrame(ZmtpSession.Command, dealer.ReadyCommand), .. request.Items.SelectMany((f, i) => ZmtpFrame(i < request.Items.Count - 1 ? ZmtpSession.More : (byte)0, f.ToArray()))]));
        var curve = new ZmtpSettings("DEALER", null, 64 * 1024, CurveSettings.Client(ZmtpPeer.CurvePublicKey));
        seeds.Add(("zmtp-curve-router", [10, .. curve.Greeting, .. ZmtpFrame(ZmtpSession.Command, curve.Curve!.NewHandshake(curve.Metadata).Begin()!)]));

        foreach (var (name, bytes) in seeds)
        {
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
        }

        return seeds.Count;
    }

    private static byte[] Batch(in CompactDraft message)
    {
        var batch = new CompactBatch();
        batch.Add(message);
        return batch.Frame(borrowed: false).ToArray();
    }

    private static byte[] Batch(in CompactDraft first, in CompactDraft second)
    {
        var batch = new CompactBatch();
        batch.Add(first);
        batch.Add(second);
        return batch.Frame(borrowed: false).ToArray();
    }

    /// <summary>One ZMTP frame, its header written by the session's own writer.</summary>
    private static byte[] ZmtpFrame(byte flags, byte[] body)
    {
        var frame = new byte[ZmtpSession.HeaderSize(body.Length) + body.Length];
        body.CopyTo(frame, ZmtpSession.WriteHeader(frame, flags, body.Length));
        return frame;
    }

    /// <summary>Collects the frames an encoder writes.</summary>
    private sealed class FrameList : IFrameWriter
    {
        public List<ReadOnlyMemory<byte>> Items { get; } = [];

        public void Write(ReadOnlyMemory<byte> frame, bool more) => Items.Add(frame.ToArray());
    }
}
