using System.Diagnostics;
using NetMQ;
using Pigato.Protocol;
using Pigato.Protocol.Compact;
using Pigato.Routing;

namespace Pigato.Internal;

/// <summary>
/// The broker's sockets: receives from the ROUTER into reused frames, decodes each message and hands it to
/// the <see cref="BrokerCore"/>; turns the core's decisions into frames. Loop thread only.
/// </summary>
/// <remarks>
/// Both framings arrive on every connection (docs/PROTOCOL-V2.md): a message of one frame starting with <c>0x02</c> is
/// v2, anything else v1; either is decoded into the same <see cref="MessageFields"/> for the core. What goes out takes
/// the framing agreed with its peer (<see cref="PeerFramings"/>); only headers are re-encoded, data and options bytes
/// are copied as they are, and a v1 reply to a v1 client is forwarded frame by frame without a copy.
/// </remarks>
internal sealed class BrokerTransport : IBrokerOutput, IDisposable
{
    private const int MaxFrames = 16;
    private const int MaxMessagesPerWakeup = 4096;

    private readonly Links.IRouterLink _router;
    private readonly NetMQSocket? _publisher;
    private readonly RouterSender _writer;
    private readonly ReceivedFrames _frames = new(MaxFrames) { Base = 1 };
    private readonly Action<string, string, string?, Exception?> _reportError;
    private readonly int _maxMessageSize;

    private readonly PeerBatches _batches = new();
    private readonly PeerFramings _framings;
    private readonly List<PeerBatch> _sending = [];

    /// <summary>What became of batches sent, and of queues drained, told to the core after the call that sent them (one path upward).</summary>
    private List<PeerOutcome> _outcomes = [];
    private List<PeerOutcome> _settling = [];

    /// <summary>Peers whose queue refused a batch in this callback (<see cref="SendBatch"/>).</summary>
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);

    /// <summary>Makes the transport and, with it as its output, the core it drives.</summary>
    public BrokerTransport(Links.IRouterLink router, NetMQSocket? publisher, BrokerOptions options, Action<string, string, string?, Exception?> reportError, Func<IBrokerOutput, BrokerCore> createCore)
    {
        _router = router;
        _publisher = publisher;
        _writer = new RouterSender(router, options, options.TimeProvider);
        _maxMessageSize = options.MaxMessageSize;
        _framings = new PeerFramings(options.Framing);
        _reportError = reportError;
        Core = createCore(this);
    }

    /// <summary>The rules the decoded messages go to.</summary>
    public BrokerCore Core { get; }

    /// <summary>Bytes waiting in peers' outbound queues.</summary>
    public long QueuedBytes => _writer.QueuedBytes;

    public long QueuedBytesFor(ReadOnlySpan<byte> identity) => _writer.QueuedBytesFor(identity);

    public string? AddressOf(ReadOnlySpan<byte> identity) => _router.AddressOf(identity);

    /// <summary>Set by the broker: enabled while messages wait for peers, so that <see cref="SendQueued"/> runs.</summary>
    public LoopTimer? DrainTimer { get; set; }

    /// <summary>Sends what waits for peers whose pipes have room again; which peers drained, are gone or are slow is told to the core after this callback (<see cref="SendBatches"/>).</summary>
    public void SendQueued()
    {
        _writer.Drain(_outcomes);
        _router.Flush();
        if (DrainTimer is { } timer)
        {
            timer.Enable = _writer.HasQueued || _router.HasPending;
        }
    }

    public void ForgetPeer(ReadOnlySpan<byte> identity)
    {
        if (_batches.TryTake(identity, out var batch))
        {
            _batches.Return(batch);
        }

        _writer.Discard(identity);
        _framings.Forget(identity);
    }

    /// <summary>
    /// Sends the batches the callback made (one frame per peer) and tells the core what became of each: a worker whose
    /// pipe is full is busy, a peer that is gone or too slow is handled as for any message. Runs after every loop callback.
    /// </summary>
    public void SendBatches()
    {
        // What the core does about one outcome (a worker gone: its requests to another) may batch more: sent in the next round.
        for (var round = 0; round < 8 && !(_batches.IsEmpty && _outcomes.Count == 0); round++)
        {
            _batches.TakeAll(_sending);
            foreach (var batch in _sending)
            {
                Report(batch, SendBatch(batch));
                _batches.Return(batch);
            }

            _sending.Clear();
            (_settling, _outcomes) = (_outcomes, _settling);
            foreach (var outcome in _settling)
            {
                Settle(outcome);
            }

            _settling.Clear();
        }

        _refused.Clear();

        // What the callback wrote goes to the kernel in one send per peer (Pigato's own ZMTP; NetMQ's I/O thread does it by itself).
        _router.Flush();
        if (_router.HasPending && DrainTimer is { Enable: false } timer)
        {
            timer.Enable = true;
        }
    }

    /// <summary>Handles the messages waiting on the ROUTER (a bounded number per wake-up, so timers and commands keep their turn).</summary>
    public void ReceiveWaiting()
    {
        if (_writer.HasQueued)
        {
            SendQueued();
        }

        for (var i = 0; i < MaxMessagesPerWakeup && _router.TryReceive(_frames); i++)
        {
            HandleReceived();
        }
    }

    /// <summary>Handles what still arrives (up to <paramref name="limit"/>, until <paramref name="quiet"/> passes with nothing).</summary>
    public void Drain(TimeSpan limit, TimeSpan quiet)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline && _router.TryReceive(_frames, quiet))
        {
            HandleReceived();
            SendBatches();
        }
    }

    public void Dispose() => _frames.Dispose();

    public SendResult SendRequest(BrokerWorker worker, BrokerRequest request)
    {
        if (_framings.IsV2(worker.Identity))
        {
            return Batched(worker.Identity, CompactCodec.WorkerRequest(request.ClientId, request.Service.NameBytes, request.RidBytes, request.Data, request.Options), request);
        }

        Begin(worker.Identity);
        PigatoEncoder.WorkerRequest(_writer, request.ClientId, request.Service.NameBytes, request.RidBytes, request.Data, request.Options);
        return End();
    }

    /// <summary>
    /// Relays the worker's reply to the request's client: from v1 to v1 from the status frame on, unchanged and without
    /// copying (C, type, empty, rid, status, data, opts) from the frames being handled, where the reply lies; otherwise
    /// re-encoded for the client's framing.
    /// </summary>
    public SendResult RelayReply(BrokerRequest request, in MessageFields reply)
    {
        var toV2 = _framings.IsV2(request.ReplyTo);
        if (reply.V2 || toV2)
        {
            return SendClientReply(request.ReplyTo!, reply.Kind == PigatoMessageKind.WorkerFinalReply, reply.Rid, reply.Status, reply.Data, Sanitized(reply.Options), toV2, request);
        }

        var writer = _writer;
        Begin(request.ReplyTo!);
        writer.Write(PigatoFrames.Client, true);
        writer.Forward(ref _frames.Frame(PigatoFrames.Type), true);
        writer.Write(ReadOnlyMemory<byte>.Empty, true);
        writer.Forward(ref _frames.Frame(PigatoFrames.WorkerReplyRid), true);
        var last = _frames.Count - 1;
        for (var i = PigatoFrames.WorkerReplyStatus; i <= last; i++)
        {
            if (i == PigatoFrames.WorkerReplyOptions && _frames[i].SequenceEqual(PigatoFrames.BrokerOrigin.Span))
            {
                // A worker may not pass its error off as the broker's own outcome.
                writer.Write(PigatoFrames.EmptyObject, i < last);
                continue;
            }

            writer.Forward(ref _frames.Frame(i), i < last);
        }

        return End();
    }

    public byte[][] CopyReply(in MessageFields reply) => [reply.Status.ToArray(), reply.Data.ToArray(), Sanitized(reply.Options).ToArray()];

    public bool SendKeptReply(ReadOnlySpan<byte> clientId, BrokerRequest request, byte[][] reply) =>
        Delivered(SendClientReply(clientId.ToArray(), final: true, request.RidBytes, reply[0], reply[1], reply[2], _framings.IsV2(clientId), request));

    public bool SendError(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, string code, bool pastTheBound = false) =>
        Delivered(SendClientReply(clientId.ToArray(), final: true, rid, PigatoFrames.StatusError.Span, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(code), PigatoFrames.BrokerOrigin.Span, _framings.IsV2(clientId), pastTheBound: pastTheBound));

    public bool SendReply(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, byte[] data) =>
        Delivered(SendClientReply(clientId.ToArray(), final: true, rid, PigatoFrames.StatusOk.Span, data, PigatoFrames.BrokerOrigin.Span, _framings.IsV2(clientId)));

    public bool SendHelloAnswer(ReadOnlySpan<byte> clientId, int version)
    {
        var v2 = _framings.Agree(clientId, version);
        Begin(clientId.ToArray(), advisory: true);
        PigatoEncoder.Hello(_writer, v2 ? PigatoFrames.CompactVersion : PigatoFrames.EmptyObject);
        return Delivered(End());
    }

    public bool ForwardRequestHeartbeat(BrokerWorker worker, BrokerRequest request)
    {
        Begin(worker.Identity, advisory: true);
        PigatoEncoder.WorkerRequestHeartbeat(_writer, request.ClientId, request.RidBytes);
        return Delivered(End());
    }

    public bool ForwardCancel(BrokerWorker worker, BrokerRequest request)
    {
        if (!_framings.IsV2(worker.Identity))
        {
            // A v1 worker (PIGATO for Node.js) has no such message: it sees the request heartbeats stop.
            return true;
        }

        Begin(worker.Identity);
        PigatoEncoder.WorkerCancel(_writer, request.ClientId, request.RidBytes);
        return Delivered(End());
    }

    public bool SendReadyAnswer(BrokerWorker worker, int version)
    {
        var v2 = _framings.Agree(worker.Identity, version);
        Begin(worker.Identity);
        PigatoEncoder.WorkerReadyAnswer(_writer, v2);
        return Delivered(End());
    }

    public bool SendWorkerHeartbeat(BrokerWorker worker) => SendTo(worker.Identity, PigatoEncoder.BrokerHeartbeat, advisory: true);

    public bool SendClientHeartbeat(ReadOnlySpan<byte> clientId) => SendTo(clientId.ToArray(), PigatoEncoder.ClientHeartbeat, advisory: true);

    public void SendDisconnect(ReadOnlySpan<byte> identity) => SendTo(identity.ToArray(), PigatoEncoder.WorkerDisconnect, advisory: false);

    public void PublishDirectory(byte[] frame) => _publisher?.SendFrame(frame);

    public void ReportError(string code, string message, string? peerId) => _reportError(code, message, peerId, null);

    private void HandleReceived()
    {
        try
        {
            Handle();
        }
#pragma warning disable CA1031 // One bad message must never stop the broker.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _reportError(PigatoErrorCodes.Internal, "Failed to handle a message: " + e.Message, Utf8.Decode(_frames.Raw(0)), e);
        }
        finally
        {
            _frames.Clear();
        }
    }

    private void Handle()
    {
        var sender = _frames.Raw(0);
        if (_frames.Truncated)
        {
            ReportError(PigatoErrorCodes.MessageLength, $"Message with more than {MaxFrames} frames discarded.", Utf8.Decode(sender));
            return;
        }

        if (_frames.Count == 1 && CompactFrame.IsCompact(_frames[0]))
        {
            HandleCompact(sender);
            return;
        }

        Handle(sender, PigatoDecoder.FieldsForBroker(_frames), _frames.Size);
    }

    /// <summary>
    /// A v2 frame: its message, or each message of a batch in turn as if it had come alone (a batch inside a batch is
    /// refused by its kind). A malformed length stops the batch there: what follows cannot be found.
    /// </summary>
    private void HandleCompact(ReadOnlySpan<byte> sender)
    {
        var frame = _frames[0];
        var messages = new CompactMessages(frame);
        while (messages.MoveNext())
        {
            var message = frame[messages.Current];
            Handle(sender, CompactCodec.ForBroker(message), message.Length);
        }

        if (messages.Malformed)
        {
            Core.InvalidMessage(sender, PigatoErrorCodes.MessageLength);
        }
    }

    /// <summary>One message of <paramref name="size"/> bytes, whichever framing it came in, to the core.</summary>
    private void Handle(ReadOnlySpan<byte> sender, in MessageFields message, int size)
    {
        var core = Core;
        if (size > _maxMessageSize && message.Kind != PigatoMessageKind.ClientRequest)
        {
            // A request too large is refused by the core with an answer; anything else cannot be answered.
            HandleOversized(sender, message, size);
            return;
        }

        switch (message.Kind)
        {
            case PigatoMessageKind.ClientRequest:
                core.ClientRequest(sender, message.Service, message.Rid, message.Data, message.Options, size);
                break;
            case PigatoMessageKind.ClientHeartbeat:
                core.ClientHeartbeat(sender);
                break;
            case PigatoMessageKind.ClientWorkerHeartbeat:
                core.ClientWorkerHeartbeat(sender, message.WorkerId);
                break;
            case PigatoMessageKind.ClientHello:
                core.ClientHello(sender, message.Data);
                break;
            case PigatoMessageKind.ClientRequestHeartbeat:
                core.ClientRequestHeartbeat(sender, message.Rid);
                break;
            case PigatoMessageKind.ClientCancel:
                core.ClientCancel(sender, message.Rid);
                break;
            case PigatoMessageKind.WorkerReady:
                core.WorkerReady(sender, message.Service, message.Options);
                break;
            case PigatoMessageKind.WorkerHeartbeat:
                core.WorkerHeartbeat(sender, message.Options);
                break;
            case PigatoMessageKind.WorkerPartialReply:
            case PigatoMessageKind.WorkerFinalReply:
                core.WorkerReply(sender, message);
                break;
            case PigatoMessageKind.WorkerReject:
                core.WorkerReject(sender, message.ClientId, message.Rid, message.Data);
                break;
            case PigatoMessageKind.WorkerDisconnect:
                core.WorkerDisconnect(sender);
                break;
            default:
                core.InvalidMessage(sender, message.Error!);
                break;
        }
    }

    /// <summary>A message over the size limit that is not a request: a worker sending it is disconnected, anyone else reported.</summary>
    private void HandleOversized(ReadOnlySpan<byte> sender, in MessageFields message, int size)
    {
        switch (message.Kind)
        {
            case PigatoMessageKind.WorkerPartialReply or PigatoMessageKind.WorkerFinalReply or PigatoMessageKind.WorkerReject:
                Core.WorkerOversized(sender, message.ClientId, message.Rid, size);
                break;
            case PigatoMessageKind.WorkerReady or PigatoMessageKind.WorkerHeartbeat or PigatoMessageKind.WorkerDisconnect:
                Core.WorkerOversized(sender, [], [], size);
                break;
            default:
                Core.Oversized(sender, size);
                break;
        }
    }

    /// <summary>A worker may not pass its error off as the broker's own outcome: its <c>{"origin":"broker"}</c> becomes <c>{}</c>.</summary>
    private static ReadOnlySpan<byte> Sanitized(ReadOnlySpan<byte> options) =>
        options.SequenceEqual(PigatoFrames.BrokerOrigin.Span) ? PigatoFrames.EmptyObject.Span : options;

    /// <summary>A partial or final reply to a client, in its framing (in a v2 batch, with the <paramref name="request"/> it answers).</summary>
    private SendResult SendClientReply(byte[] clientId, bool final, ReadOnlySpan<byte> rid, ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options, bool v2, BrokerRequest? request = null, bool pastTheBound = false)
    {
        if (v2)
        {
            return Batched(clientId, CompactCodec.ClientReply(final, rid, !PigatoDecoder.IsOkStatus(status), data, options), request, pastTheBound);
        }

        Begin(clientId, pastTheBound: pastTheBound);
        PigatoEncoder.ClientReply(_writer, final, rid.ToArray(), status.ToArray(), data.ToArray(), options.ToArray());
        return End();
    }

    /// <summary>
    /// A v2 message joins its peer's batch, sent after the callback (<see cref="SendBatches"/>); the outcome is then
    /// <see cref="SendResult.Sent"/>, or the outcome of the whole batch when it filled up now. A large one goes alone.
    /// The batch carries the <paramref name="request"/> the message is (to a worker) or answers (to a client), so that
    /// the core hears of every request a batch failed; one message <paramref name="pastTheBound"/> takes its batch past
    /// the peer's bounds.
    /// </summary>
    private SendResult Batched(byte[] identity, in CompactDraft message, BrokerRequest? request = null, bool pastTheBound = false)
    {
        if (CompactBatch.IsTooLarge(message))
        {
            Begin(identity, pastTheBound: pastTheBound);
            _writer.Write(message.ToArray(), false);
            return End();
        }

        if (_batches.Add(identity, message, request, pastTheBound) is not { } full)
        {
            return SendResult.Sent;
        }

        var result = SendBatch(full);
        if (request is not null && result is SendResult.Unreachable or SendResult.Overflow)
        {
            // Every request of the batch failed, not only this one: the core hears of them all, after this call.
            Report(full, result);
            result = SendResult.Sent;
        }

        _batches.Return(full);
        return result;
    }

    /// <summary>Starts a message to <paramref name="identity"/>: what waits in its batch goes first, so that the peer sees the order they were made in.</summary>
    private void Begin(byte[] identity, bool advisory = false, bool pastTheBound = false)
    {
        if (_batches.TryTake(identity, out var batch))
        {
            Report(batch, SendBatch(batch));
            _batches.Return(batch);
        }

        _writer.StartMessage(identity, advisory, pastTheBound);
    }

    /// <summary>
    /// Sends a batch. Once a peer's queue refused one, the peer takes no other batch until the core has heard of it (the
    /// end of <see cref="SendBatches"/>), but for one past the bound: a later, smaller batch that fitted would leave a hole
    /// in a reply stream that the client could not see.
    /// </summary>
    private SendResult SendBatch(PeerBatch batch)
    {
        if (!batch.PastTheBound && _refused.Count > 0 && _refused.Contains(PeerKey.Of(batch.Identity)))
        {
            return SendResult.Overflow;
        }

        _writer.StartMessage(batch.Identity, advisory: false, batch.PastTheBound);
        _writer.Write(batch.Frame(borrowed: _router.CopiesOnSend), false);
        var result = End();
        if (result == SendResult.Overflow)
        {
            _refused.Add(PeerKey.Of(batch.Identity));
        }

        return result;
    }

    /// <summary>Notes what became of a batch when the core must hear of it: when it was not delivered, with the requests it carried.</summary>
    private void Report(PeerBatch batch, SendResult result)
    {
        if (result is SendResult.Queued or SendResult.Unreachable or SendResult.Overflow)
        {
            _outcomes.Add(new PeerOutcome(batch.Identity, result, batch.Count, result is not SendResult.Queued && batch.Requests.Count > 0 ? [.. batch.Requests] : null));
        }
    }

    /// <summary>Tells the core what became of what was sent to a peer outside its calls.</summary>
    private void Settle(PeerOutcome outcome)
    {
        switch (outcome.Result)
        {
            case SendResult.Sent:
                Core.PeerDrained(outcome.Identity);
                break;
            case SendResult.Queued:
                Core.PeerBacklogged(outcome.Identity);
                break;
            case SendResult.Overflow:
                Core.SlowConsumer(outcome.Identity, outcome.Messages, outcome.Undelivered);
                break;
            case SendResult.Unreachable:
                Core.PeerGone(outcome.Identity, outcome.Undelivered);
                break;
        }
    }

    private delegate void Encode(IFrameWriter writer);

    private static bool Delivered(SendResult result) => result is SendResult.Sent or SendResult.Queued or SendResult.Skipped;

    /// <summary>Ends the message; when it went into a queue, makes sure the queue is drained.</summary>
    private SendResult End()
    {
        var result = _writer.EndMessage();
        if (result == SendResult.Queued && DrainTimer is { Enable: false } timer)
        {
            timer.Enable = true;
        }

        return result;
    }

    /// <summary>A message to a peer by identity; an advisory one (a heartbeat) is skipped rather than queued when the peer is behind.</summary>
    private bool SendTo(byte[] identity, Encode encode, bool advisory)
    {
        Begin(identity, advisory);
        encode(_writer);
        return Delivered(End());
    }
}
