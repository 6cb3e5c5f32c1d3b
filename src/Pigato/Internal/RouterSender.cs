using NetMQ;
using Pigato.Protocol;
using Pigato.Routing;

namespace Pigato.Internal;

/// <summary>
/// Writes messages to the broker's ROUTER without ever waiting on a peer. A message to a peer whose pipe is full
/// (or that already has messages waiting) is copied into that peer's bounded outbound queue, in order, and sent as
/// the pipe frees (<see cref="Drain"/>); a message to a gone peer is reported. Loop thread only.
/// </summary>
/// <remarks>
/// The first frame of a message is the peer identity. NetMQ checks the high-water mark once per message, at its
/// first frame, so only that frame can find the pipe full; the rest of a message that started never waits.
/// </remarks>
internal sealed class RouterSender(Links.IRouterLink router, BrokerOptions options, TimeProvider time) : IFrameWriter
{
    private readonly Dictionary<string, PeerQueue> _queues = new(StringComparer.Ordinal);
    private readonly List<byte[]> _captured = [];
    private State _state = State.AtStart;
    private ReadOnlyMemory<byte> _identity;
    private PeerQueue? _target;
    private long _capturedBytes;

    private enum State
    {
        AtStart,
        Direct,
        Capturing,
        Skipping,
    }

    /// <summary>Bytes waiting in outbound queues, counted in the broker's memory budget.</summary>
    public long QueuedBytes { get; private set; }

    /// <summary>Bytes waiting in <paramref name="identity"/>'s outbound queue.</summary>
    public long QueuedBytesFor(ReadOnlySpan<byte> identity) =>
        _queues.Count > 0 && PeerKey.TryGet(_queues, identity, out var queue) ? queue.Bytes : 0;

    /// <summary>True while some peer has messages waiting.</summary>
    public bool HasQueued => _queues.Count > 0;

    /// <summary>The message being written is only advisory (a heartbeat): to a peer that cannot take it now, it is skipped rather than queued.</summary>
    private bool _advisory;

    /// <summary>The message being written is queued even past the peer's bounds (the one message that tells it why its request ended).</summary>
    private bool _pastTheBound;

    /// <summary>
    /// Starts a message to <paramref name="identity"/>; an <paramref name="advisory"/> one is skipped rather than queued for
    /// a peer that cannot take it now; one <paramref name="pastTheBound"/> is queued even when the peer's queue is full.
    /// </summary>
    public void StartMessage(ReadOnlyMemory<byte> identity, bool advisory, bool pastTheBound = false)
    {
        _advisory = advisory;
        _pastTheBound = pastTheBound;
        Write(identity, more: true);
    }

    /// <inheritdoc />
    /// <remarks>An array-backed frame is sent as it is (no copy, no buffer taken from the pool).</remarks>
    public void Write(ReadOnlyMemory<byte> frame, bool more)
    {
        if (_state == State.AtStart)
        {
            Start(frame, more);
            return;
        }

        if (_state == State.Direct)
        {
            var msg = OutgoingFrame.Of(frame);
            router.SendMore(ref msg, more);
        }
        else if (_state == State.Capturing)
        {
            Capture(frame.ToArray());
        }
    }

    /// <summary>Sends a received frame on without copying it (or copies it into a queue); <paramref name="msg"/> is empty afterwards.</summary>
    public void Forward(ref Msg msg, bool more)
    {
        switch (_state)
        {
            case State.Direct:
                router.SendMore(ref msg, more);
                break;
            case State.Capturing:
                Capture(msg.Slice().ToArray());
                break;
        }

        msg.Close();
        msg.InitEmpty();
    }

    /// <summary>Ends the message written: sent, queued for the peer, skipped (advisory), or undeliverable (the peer is gone).</summary>
    public SendResult EndMessage()
    {
        var result = _state switch
        {
            State.Direct => SendResult.Sent,
            State.Capturing => Enqueue(),
            _ => _target is null ? SendResult.Unreachable : SendResult.Skipped,
        };
        _state = State.AtStart;
        _identity = default;
        _target = null;
        _advisory = false;
        _pastTheBound = false;
        return result;
    }

    /// <summary>
    /// Sends what waits, oldest first, for as long as each peer's pipe takes it. Adds to <paramref name="outcomes"/> the
    /// peers that drained (<see cref="SendResult.Sent"/>), that are gone, and slow consumers (<see cref="SendResult.Overflow"/>):
    /// a peer whose oldest waiting message has waited longer than <see cref="BrokerOptions.SlowConsumerTimeout"/> (it reads
    /// nothing, or less than it is sent, so that it falls further behind) loses its queue.
    /// </summary>
    public void Drain(ICollection<PeerOutcome> outcomes)
    {
        if (_queues.Count == 0)
        {
            return;
        }

        var now = time.GetTimestamp();
        List<(PeerQueue Queue, SendResult Outcome)>? finished = null;
        foreach (var queue in _queues.Values)
        {
            var outcome = queue.TrySendAll(router, out var sent);
            QueuedBytes -= sent;
            if (outcome != SendResult.Queued || time.GetElapsedTime(queue.Since, now) > options.SlowConsumerTimeout)
            {
                (finished ??= []).Add((queue, outcome));
            }
        }

        // Queues leave before anyone hears of it: what the callbacks send starts afresh, never into a queue being removed.
        foreach (var (queue, _) in finished ?? [])
        {
            Remove(queue);
        }

        foreach (var (queue, outcome) in finished ?? [])
        {
            outcomes.Add(new PeerOutcome(queue.Identity, outcome is SendResult.Queued ? SendResult.Overflow : outcome, queue.Count));
        }
    }

    /// <summary>Forgets what waits for a peer (it is gone or was dropped); returns how many messages were dropped.</summary>
    public int Discard(ReadOnlySpan<byte> identity)
    {
        if (!PeerKey.TryGet(_queues, identity, out var queue))
        {
            return 0;
        }

        Remove(queue);
        return queue.Count;
    }

    private void Start(ReadOnlyMemory<byte> identity, bool more)
    {
        // Copied only when the message goes into a queue: the hot path sends the caller's frame as it is.
        _identity = identity;
        if (_queues.Count > 0 && PeerKey.TryGet(_queues, identity.Span, out var waiting))
        {
            // Messages wait for this peer: this one goes behind them, never ahead.
            _target = waiting;
            _state = _advisory ? State.Skipping : State.Capturing;
            StartCapture();
            return;
        }

        var msg = OutgoingFrame.Of(identity);
        var started = router.TryStartMessage(ref msg, more);
        if (started != Links.RouteResult.Started)
        {
            msg.Close();
        }

        _state = started switch
        {
            Links.RouteResult.Started => State.Direct,
            Links.RouteResult.Full when !_advisory => State.Capturing,
            _ => State.Skipping,
        };
        if (started == Links.RouteResult.Full && _advisory)
        {
            // Full pipe, advisory message: skip it, but do not report the peer as gone.
            _target = PeerQueue.None;
        }

        StartCapture();
    }

    private void StartCapture()
    {
        if (_captured.Count > 0)
        {
            _captured.Clear();
        }

        _capturedBytes = 0;
        if (_state == State.Capturing)
        {
            Capture(_identity.ToArray());
        }
    }

    private void Capture(byte[] frame)
    {
        _captured.Add(frame);
        _capturedBytes += frame.Length;
    }

    private SendResult Enqueue()
    {
        if (_target is null or { IsNone: true })
        {
            _target = new PeerQueue(_captured[0], time.GetTimestamp());
            _queues.Add(PeerKey.Of(_target.Identity), _target);
        }

        if (!_pastTheBound && (_target.Count >= options.MaxQueuedPerPeer || _target.Bytes + _capturedBytes > options.MaxQueuedBytesPerPeer))
        {
            return SendResult.Overflow;
        }

        _target.Add([.. _captured], _capturedBytes, time.GetTimestamp());
        QueuedBytes += _capturedBytes;
        return SendResult.Queued;
    }

    private void Remove(PeerQueue queue)
    {
        _queues.Remove(PeerKey.Of(queue.Identity));
        QueuedBytes -= queue.Bytes;
    }

    /// <summary>The messages waiting for one peer.</summary>
    private sealed class PeerQueue(byte[] identity, long since)
    {
        /// <summary>Stands for "full pipe, nothing queued" while an advisory message is skipped.</summary>
        public static readonly PeerQueue None = new([], 0) { IsNone = true };

        private readonly Queue<(byte[][] Frames, long QueuedAt)> _messages = new();

        public byte[] Identity { get; } = identity;

        /// <summary>When the oldest message still waiting was queued: a peer is slow once that is longer ago than the timeout, however much it drained meanwhile.</summary>
        public long Since => _messages.TryPeek(out var oldest) ? oldest.QueuedAt : since;

        public bool IsNone { get; private init; }

        public int Count => _messages.Count;

        public long Bytes { get; private set; }

        public void Add(byte[][] frames, long bytes, long queuedAt)
        {
            _messages.Enqueue((frames, queuedAt));
            Bytes += bytes;
        }

        /// <summary>Sends while the pipe takes messages: Sent when all went, Queued when some wait, Unreachable when the peer is gone.</summary>
        public SendResult TrySendAll(Links.IRouterLink router, out long sentBytes)
        {
            sentBytes = 0;
            while (_messages.TryPeek(out var head))
            {
                var frames = head.Frames;
                var first = new Msg();
                first.InitGC(frames[0], frames[0].Length);
                var started = router.TryStartMessage(ref first, frames.Length > 1);
                if (started != Links.RouteResult.Started)
                {
                    first.Close();
                    return started == Links.RouteResult.Full ? SendResult.Queued : SendResult.Unreachable;
                }

                for (var i = 1; i < frames.Length; i++)
                {
                    var msg = new Msg();
                    msg.InitGC(frames[i], frames[i].Length);
                    router.SendMore(ref msg, i < frames.Length - 1);
                }

                _messages.Dequeue();
                var bytes = 0L;
                foreach (var frame in frames)
                {
                    bytes += frame.Length;
                }

                Bytes -= bytes;
                sentBytes += bytes;
            }

            return SendResult.Sent;
        }
    }
}
