using Microsoft.Extensions.Logging;
using Pigato.Internal.Links;
using Pigato.Protocol;
using Pigato.Protocol.Compact;

namespace Pigato.Internal;

/// <summary>
/// A client's or worker's connection to one broker endpoint: a DEALER (<see cref="IBrokerLink"/>) with an identity <c>prefix-uuid</c>
/// renewed at every (re)connection, liveness from the broker's messages, reconnection after a pause, and
/// bounded draining. Loop thread only.
/// </summary>
/// <remarks>
/// The broker knows a peer by its identity, so a new identity is a new peer: whatever the broker held for
/// the old one is gone. <see cref="Generation"/> counts the identities, so that work tied to one of them
/// (a request sent, a request received) can tell when it belongs to a connection that no longer exists.
/// </remarks>
internal sealed class BrokerConnection : IDisposable
{
    private const int MaxMessagesPerWakeup = 4096;

    /// <summary>Bytes a connection's local send queue holds at most (beside its count bound, the socket's high-water mark).</summary>
    private const long MaxQueuedBytes = 64L << 20;

    /// <summary>How often what waits in the local send queue is tried again while the broker catches up.</summary>
    private static readonly TimeSpan DrainPeriod = TimeSpan.FromMilliseconds(5);

    private readonly ActorLoop _loop;
    private readonly IBrokerConnectionOwner _owner;
    private readonly ConnectionSettings _settings;
    private readonly ILogger _logger;
    private readonly ReceivedFrames _frames = new(16);
    private readonly LoopTimer _reconnect;
    private readonly LoopTimer _drain;
    private IBrokerLink? _link;
    private DealerSender? _writer;
    private readonly CompactBatch _batch = new();
    private int _liveness;
    private bool _transportSeen;
    private bool _transportInterrupted;
    private bool _handshakeReported;

    /// <summary>Connections that closed before the broker answered, in a row (across identities); see <see cref="HandshakeFailureDrops"/>.</summary>
    private int _dropsBeforeAnswer;

    /// <summary>Closes before any answer that make a failed handshake: a broker that dies once between accept and answer is not one.</summary>
    private const int HandshakeFailureDrops = 2;

    public BrokerConnection(string endpoint, ConnectionSettings settings, ActorLoop loop, IBrokerConnectionOwner owner, ILogger logger)
    {
        Endpoint = endpoint;
        _settings = settings;
        _loop = loop;
        _owner = owner;
        _logger = logger;
        _reconnect = loop.Timer(settings.ReconnectDelay, Reconnect, enabled: false);
        _drain = loop.Timer(DrainPeriod, SendQueued, enabled: false);
    }

    /// <summary>The broker endpoint.</summary>
    public string Endpoint { get; }

    /// <summary>The current identity, or null while closed.</summary>
    public string? Id { get; private set; }

    /// <summary>Counts identities: 1 for the first connection, one more at every reconnection.</summary>
    public int Generation { get; private set; }

    /// <summary>True while a socket exists (connected or trying to).</summary>
    public bool IsOpen => _link is not null;

    /// <summary>True once the broker has sent something on the current identity.</summary>
    public bool IsConnected { get; private set; }

    /// <summary>True while the security handshake is known to fail here (reported, and the broker has not answered since).</summary>
    public bool HandshakeFailed => _handshakeReported && !IsConnected;

    /// <summary>What a failed secure handshake with this broker most likely means, for people.</summary>
    public string HandshakeFailure =>
        $"The broker at {Endpoint} accepts the connection but never answers: most likely the CURVE server key is wrong, or CURVE is on at one end only ({PigatoErrorCodes.Handshake}).";

    /// <summary>
    /// True once the broker agreed to v2 framing on the current identity (its hello or READY answer, docs/PROTOCOL-V2.md):
    /// requests and replies then go in v2. Only this connection chooses a framing: its owner sends by kind of message.
    /// </summary>
    private bool _v2;

    /// <summary>True while messages wait in the local queue (the link or pipe refused them): the owner holds back what it produces.</summary>
    public bool IsBacklogged => _writer is { HasQueued: true };

    /// <summary>Set when the broker said it is stopping: no more requests go there until the connection is made again.</summary>
    public bool BrokerStopping { get; set; }

    /// <summary>Opens a socket under a new identity and lets the owner greet the broker.</summary>
    public void Open()
    {
        Generation++;
        Id = _settings.Prefix + "-" + Guid.NewGuid().ToString();
        IBrokerLink? link = null;
        // The link's events run on the loop. A dropped connection is lost at once with DetectDisconnect; without it the
        // link reconnects under the same identity, and the owner is told when the transport is back (the broker may
        // have restarted meanwhile and know nothing of what was sent before).
        var events = new LinkEvents(
            Received: ReceiveWaiting,
            Connected: () => OnTransportConnected(link!),
            Disconnected: () =>
            {
                if (_link != link)
                {
                    return;
                }

                // Dropped again and again before the broker ever answered: the security handshake fails (CURVE at one end
                // only, or the wrong server key), which ZeroMQ only shows as a connection that closes at once. Said at once.
                if (!IsConnected && ++_dropsBeforeAnswer >= HandshakeFailureDrops && !_handshakeReported)
                {
                    _handshakeReported = true;
                    _owner.OnHandshakeFailed(this);
                }

                if (_settings.DetectDisconnect)
                {
                    _loop.Post(() => OnTransportDropped(link!));
                }
                else if (IsConnected)
                {
                    // Only a connection the broker answered comes back "resumed" (its requests sent again).
                    _transportInterrupted = true;
                }
            });
        link = BrokerLinks.Open(Endpoint, Id, _settings, _loop, events, _logger);
        _link = link;
        _writer = new DealerSender(link, _settings.SendHighWatermark, Math.Max(MaxQueuedBytes, _settings.MaxMessageSize));
        _liveness = _settings.Liveness;
        IsConnected = false;
        Registered = false;
        _transportInterrupted = false;
        BrokerStopping = false;
        _v2 = false;
        _owner.OnOpened(this);
    }

    /// <summary>Sends a message; false when it could not be queued (or the connection is closed).</summary>
    /// <remarks>What waits in the batch goes first, so that the broker sees messages in the order they were sent.</remarks>
    public bool Send<TState>(TState state, Action<IFrameWriter, TState> encode)
    {
        if (_writer is null)
        {
            return false;
        }

        Flush();
        encode(_writer, state);
        return Ended(_writer);
    }

    /// <summary>A client's request, in the framing agreed with the broker; false when it could not be queued.</summary>
    public bool SendRequest(RequestFrames frames, byte[] rid) => _v2
        ? SendCompact(CompactCodec.ClientRequest(frames.Service, rid, frames.Data, frames.Options))
        : Send((frames, rid), static (w, s) => PigatoEncoder.ClientRequest(w, s.frames.Service, s.rid, s.frames.Data, s.frames.Options));

    /// <summary>Tells the broker the client no longer wants a request: only a broker that agreed on v2 knows the message (false: not sent).</summary>
    public bool SendCancel(byte[] rid) => _v2 && Send(rid, static (w, r) => PigatoEncoder.ClientCancel(w, r));

    /// <summary>
    /// A worker's reply (partial, final, error or reject), in the framing agreed with the broker; false when it could not be
    /// queued. v2 copies the data into the batch; v1 hands NetMQ a frame that outlives a handed-over buffer (<see cref="ReplyData.DataToKeep"/>).
    /// </summary>
    public bool SendReply(byte[] clientId, byte[] rid, in ReplyData reply)
    {
        var kind = reply.Kind;
        if (_v2)
        {
            var type = kind switch { ReplyKind.Partial => MessageType.ReplyPartial, ReplyKind.Reject => MessageType.ReplyReject, _ => MessageType.Reply };
            return SendCompact(CompactCodec.WorkerReply(type, clientId, rid, error: kind == ReplyKind.Error, reply.Data.Span, reply.Options.Span));
        }

        return Send((kind, clientId, rid, data: reply.DataToKeep, options: reply.Options), static (w, s) =>
        {
            switch (s.kind)
            {
                case ReplyKind.Partial:
                case ReplyKind.Final:
                    PigatoEncoder.WorkerReply(w, s.kind == ReplyKind.Final, s.clientId, s.rid, PigatoFrames.StatusOk, s.data, s.options);
                    break;
                case ReplyKind.Error:
                    PigatoEncoder.WorkerReply(w, final: true, s.clientId, s.rid, PigatoFrames.StatusError, s.data, s.options);
                    break;
                default:
                    PigatoEncoder.WorkerReject(w, s.clientId, s.rid, s.data);
                    break;
            }
        });
    }

    /// <summary>
    /// Sends a v2 message with the others of the same loop callback: they leave together in one batch frame at
    /// <see cref="Flush"/> (the owner's <see cref="ActorLoop.AfterEach"/>), or as soon as the batch is full.
    /// False when the connection is closed.
    /// </summary>
    private bool SendCompact(in CompactDraft message)
    {
        if (_writer is null)
        {
            return false;
        }

        if (CompactBatch.IsTooLarge(message))
        {
            Flush();
            _writer.Write(message.ToArray(), false);
            return Ended(_writer);
        }

        return !_batch.Add(message) || Flush();
    }

    /// <summary>Sends the batch: one message alone, several in a batch frame. False when it could not be queued (its messages are lost: their requests time out).</summary>
    public bool Flush()
    {
        if (_batch.Count == 0)
        {
            FlushLink();
            return true;
        }

        var sent = false;
        if (_writer is not null)
        {
            _writer.Write(_batch.Frame(borrowed: _link?.CopiesOnSend == true), false);
            sent = Ended(_writer);
        }

        if (!sent)
        {
            Log.BatchNotSent(_logger, _settings.Actor, Id ?? Endpoint, _batch.Count);
        }

        _batch.Clear();
        FlushLink();
        return sent;
    }

    /// <summary>Hands what was sent to the kernel (Pigato's own transport; NetMQ's I/O thread does it by itself); what it cannot take yet is tried again with the local queue.</summary>
    private void FlushLink()
    {
        if (_link is { } link)
        {
            link.Flush();
            if (link.HasPending && !_drain.Enable)
            {
                _drain.Enable = true;
            }
        }
    }

    /// <summary>Ends a message; when it went into the local queue, the queue is drained until empty.</summary>
    private bool Ended(DealerSender writer)
    {
        var ok = writer.EndMessage();
        if (writer.HasQueued && !_drain.Enable)
        {
            _drain.Enable = true;
        }

        return ok;
    }

    /// <summary>Sends what waits in the local queue as the pipe frees.</summary>
    private void SendQueued()
    {
        var waiting = _writer is { } writer && !writer.Drain();
        _link?.Flush();
        _drain.Enable = waiting || _link is { HasPending: true };
    }

    /// <summary>
    /// One heartbeat period passed. False when the broker has been silent for the whole liveness: the
    /// connection is then closed (the owner told) and reopens after the reconnect delay.
    /// </summary>
    public bool Tick()
    {
        if (_link is null)
        {
            return false;
        }

        if (--_liveness > 0)
        {
            return true;
        }

        // The TCP port answered, yet the broker said nothing for the whole liveness: with CURVE that is a failed secure
        // handshake, not a lost broker. Reported once, until the broker is heard from.
        if (!IsConnected && _transportSeen && _settings.CurveServerKey is not null && !_handshakeReported)
        {
            _handshakeReported = true;
            _owner.OnHandshakeFailed(this);
        }

        Log.Connection(_logger, _settings.Actor, Id!, Endpoint, "broker silent; reconnecting");
        Lose();
        ScheduleReconnect(_settings.ReconnectDelay);
        return false;
    }

    /// <summary>
    /// The broker told us to register again (DISCONNECT): a new identity after <paramref name="delay"/> (the reconnect
    /// delay by default), so that a broker that keeps refusing (a worker it does not permit) is not hammered in a loop.
    /// </summary>
    public void Restart(TimeSpan? delay = null)
    {
        Lose();
        ScheduleReconnect(delay ?? _settings.ReconnectDelay);
    }

    /// <summary>True once the broker answered this identity's registration (a worker's READY); owner-managed.</summary>
    public bool Registered { get; set; }

    /// <summary>Registrations in a row the broker refused (DISCONNECT before any answer); owner-managed, kept across identities.</summary>
    public int Refusals { get; set; }

    /// <summary>Closes the socket for good (the owner is stopping); the owner is told when the connection was open.</summary>
    public void Close()
    {
        _reconnect.Enable = false;
        if (_link is not null)
        {
            Lose();
        }
    }

    /// <summary>Closes (telling the owner) and releases the buffers and its timers; loop thread.</summary>
    public void Dispose()
    {
        Close();
        _reconnect.Dispose();
        _drain.Dispose();
        _frames.Dispose();
    }

    /// <summary>Releases the socket without a word to anyone: the loop is already gone (a failed start).</summary>
    public void Abandon()
    {
        _link?.Abandon();
        _link = null;
        _writer = null;
        _frames.Dispose();
    }

    /// <summary>The TCP connection is up; after an interruption under the same identity, the owner is told.</summary>
    private void OnTransportConnected(IBrokerLink link)
    {
        _transportSeen = true;
        if (_link == link && _transportInterrupted)
        {
            _transportInterrupted = false;
            Log.Connection(_logger, _settings.Actor, Id!, Endpoint, "connection to the broker back after an interruption");
            _owner.OnTransportResumed(this);
        }
    }

    /// <summary>The TCP connection to the broker dropped: lost at once (the broker died, or restarts), not after the liveness.</summary>
    private void OnTransportDropped(IBrokerLink link)
    {
        if (_link != link)
        {
            return;
        }

        Log.Connection(_logger, _settings.Actor, Id!, Endpoint, "connection to the broker dropped; reconnecting");
        Lose();
        ScheduleReconnect(_settings.ReconnectDelay);
    }

    /// <summary>Opens the connection again (a new identity) after <paramref name="delay"/>.</summary>
    private void ScheduleReconnect(TimeSpan delay)
    {
        _reconnect.Interval = delay;
        _reconnect.Enable = true;
    }

    private void Reconnect()
    {
        _reconnect.Enable = false;
        Open();
    }

    /// <summary>Lets the owner say goodbye and settle what the identity held, then closes the socket.</summary>
    private void Lose()
    {
        var wasConnected = IsConnected;
        Flush();
        _owner.OnClosing(this);

        // What still waits locally gets one last chance, then goes with the identity: the owner settles its requests
        // as any the broker lost.
        _writer?.Drain();
        _drain.Enable = false;
        _link!.Flush();
        _link.Dispose();
        _link = null;
        _writer = null;
        IsConnected = false;
        _owner.OnClosed(this, wasConnected);
    }

    /// <summary>
    /// Decodes what arrived into the same fields whichever framing it came in (each message of a v2 batch in turn; a
    /// malformed length stops a batch there), takes note of the framing the broker agreed to, and hands each to the owner.
    /// </summary>
    private void Deliver(ReceivedFrames frames)
    {
        if (frames.Count == 1 && CompactFrame.IsCompact(frames[0]))
        {
            var frame = frames[0];
            var messages = new CompactMessages(frame);
            while (messages.MoveNext())
            {
                var message = frame[messages.Current];
                _owner.OnMessage(this, _settings.Side == ConnectionSide.Worker ? CompactCodec.ForWorker(message) : CompactCodec.ForClient(message));
            }

            if (messages.Malformed)
            {
                _owner.OnMessage(this, new MessageFields { Kind = PigatoMessageKind.Invalid, Error = PigatoErrorCodes.MessageLength });
            }

            return;
        }

        var fields = frames.Truncated ? new MessageFields { Kind = PigatoMessageKind.Invalid, Error = PigatoErrorCodes.MessageLength }
            : _settings.Side == ConnectionSide.Worker ? PigatoDecoder.FieldsForWorker(frames)
            : PigatoDecoder.FieldsForClient(frames);
        if (fields.Kind is PigatoMessageKind.HelloAnswer or PigatoMessageKind.ReadyAnswer)
        {
            // A Pigato for .NET broker that agrees to v2 says so in its answer; any other sends none.
            _v2 = _settings.Framing == Framing.Auto && Routing.WorkerStatus.Parse(fields.Data).SpeaksV2;
        }

        _owner.OnMessage(this, fields);
    }

    private void ReceiveWaiting()
    {
        for (var i = 0; i < MaxMessagesPerWakeup && _link is { } link && link.TryReceive(_frames); i++)
        {
            _liveness = _settings.Liveness;
            try
            {
                if (!IsConnected)
                {
                    IsConnected = true;
                    _transportSeen = false;
                    _handshakeReported = false;
                    _dropsBeforeAnswer = 0;
                    Log.Connected(_logger, _settings.Actor, Id!, Endpoint);
                    _owner.OnConnected(this);
                }

                Deliver(_frames);
            }
#pragma warning disable CA1031 // One bad message (or a failing user event handler) must never end the loop.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _loop.Report(e);
            }
            finally
            {
                _frames.Clear();
            }
        }
    }
}

/// <summary>Which side of the protocol a connection speaks: what it decodes.</summary>
internal enum ConnectionSide
{
    Client,
    Worker,
}

/// <summary>What a <see cref="BrokerConnection"/> tells its owner (a client or a worker), on the loop thread.</summary>
internal interface IBrokerConnectionOwner
{
    /// <summary>A socket was opened under a new identity: greet the broker (READY, heartbeat) and send what waits.</summary>
    void OnOpened(BrokerConnection connection);

    /// <summary>The first message from the broker on this identity arrived.</summary>
    void OnConnected(BrokerConnection connection);

    /// <summary>A message from the broker, decoded whichever framing it came in (each message of a batch in turn); <see cref="PigatoMessageKind.Invalid"/> with its error code when malformed.</summary>
    void OnMessage(BrokerConnection connection, in MessageFields message);

    /// <summary>
    /// The TCP connection dropped and ZeroMQ made it again under the same identity: what was sent before may be lost
    /// (the broker may have restarted); whatever can be sent again safely should be.
    /// </summary>
    void OnTransportResumed(BrokerConnection connection);

    /// <summary>The broker's port answers but nothing comes back (most likely a wrong CURVE server key): report it, fail what waits on it.</summary>
    void OnHandshakeFailed(BrokerConnection connection);

    /// <summary>The socket is about to close: the last chance to send on it (a worker's DISCONNECT).</summary>
    void OnClosing(BrokerConnection connection);

    /// <summary>The socket closed; what was tied to its <see cref="BrokerConnection.Generation"/> is gone at the broker.</summary>
    void OnClosed(BrokerConnection connection, bool wasConnected);
}

/// <summary>How a <see cref="BrokerConnection"/> behaves.</summary>
/// <param name="Actor">"Client" or "Worker", for logs.</param>
/// <param name="Prefix">Identity prefix.</param>
/// <param name="Liveness">Heartbeat periods without a message before the broker counts as lost.</param>
/// <param name="ReconnectDelay">Pause before reconnecting.</param>
/// <param name="SendHighWatermark">Messages queued towards the broker in the pipe, and as many again in the local queue, before a send is refused.</param>
/// <param name="Linger">How long unsent messages may delay closing.</param>
/// <param name="MaxMessageSize">Largest message read from the broker (a larger frame closes the connection in the transport); -1 for no limit.</param>
/// <param name="DetectDisconnect">Count the broker as lost as soon as the TCP connection drops (a socket monitor), not only by liveness; without it the owner is told when the dropped connection is back.</param>
/// <param name="CurveServerKey">The brokers' CURVE public key, or null for plain text.</param>
/// <param name="Side">Which messages it decodes: a client's or a worker's.</param>
/// <param name="Framing">Whether it may agree on v2 framing with a broker that offers it.</param>
/// <param name="Transport">What carries the connection (<see cref="Links.BrokerLinks.Open"/>).</param>
/// <param name="Brokers">The broker endpoints it was given (names among them are looked up: <see cref="BrokerDiscovery"/>).</param>
/// <param name="DnsServer">Where names are looked up; null for the system's DNS servers.</param>
/// <param name="DnsRefreshInterval">How often names are looked up again.</param>
internal sealed record ConnectionSettings(string Actor, string Prefix, int Liveness, TimeSpan ReconnectDelay, int SendHighWatermark, TimeSpan Linger, int MaxMessageSize, bool DetectDisconnect, string? CurveServerKey, ConnectionSide Side, Framing Framing, ConnectionTransport Transport, IReadOnlyList<string> Brokers, string? DnsServer, TimeSpan DnsRefreshInterval);
