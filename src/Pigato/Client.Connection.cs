using System.Diagnostics;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

/// <summary>The client's side of its broker connections: replies, heartbeats, timeouts and reconnection (loop thread).</summary>
public sealed partial class Client : IBrokerConnectionOwner
{
    private readonly List<PendingRequest> _waitingForConnection = [];
    private long _nextDeadline = long.MaxValue;

    private int _nextRoute;

    void IBrokerConnectionOwner.OnOpened(BrokerConnection connection)
    {
        Id = _connections[0].Id;
        Greet(connection);
        SendWaitingRequests();
    }

    /// <summary>
    /// The connection dropped and came back under the same identity: the broker may have restarted and lost what was not in
    /// its store yet. The greeting goes again (a new broker knows neither the framing nor the credential), then every
    /// <c>persist</c> request sent on it, under the same rid: a broker that still holds it (or read it back from its store)
    /// only re-attaches it; one that never stored it runs it. Other requests wait for their reply or their timeout, as in PIGATO.
    /// </summary>
    void IBrokerConnectionOwner.OnTransportResumed(BrokerConnection connection)
    {
        Greet(connection);
        foreach (var request in _pending.Values)
        {
            if (request.IsAt(connection) && request.Frames!.Persist)
            {
                SendOn(connection, request);
            }
        }
    }

    /// <summary>A heartbeat, then once per connection and before any request the hello: the framing spoken and who this identity is (docs/PROTOCOL-V2.md).</summary>
    private void Greet(BrokerConnection connection)
    {
        connection.Send(0, static (w, _) => PigatoEncoder.ClientHeartbeat(w));
        if (Options.Framing == Framing.Auto || Options.Credential is not null)
        {
            connection.Send(HelloJson(), static (w, json) => PigatoEncoder.Hello(w, json));
        }
    }

    void IBrokerConnectionOwner.OnConnected(BrokerConnection connection)
    {
        IsConnected = true;
        _events.Connected(() => Connected?.Invoke(this, EventArgs.Empty));
        SendWaitingRequests();
    }

    void IBrokerConnectionOwner.OnMessage(BrokerConnection connection, in MessageFields message)
    {
        switch (message.Kind)
        {
            case PigatoMessageKind.FinalReply or PigatoMessageKind.PartialReply:
                OnReply(connection, message);
                break;
            case PigatoMessageKind.HelloAnswer or PigatoMessageKind.Heartbeat:
                // The connection took note of the framing agreed; a heartbeat only proves the broker alive.
                break;
            default:
                RaiseError(message.Error ?? PigatoErrorCodes.MessageType, "Malformed message from the broker ignored.");
                break;
        }
    }

    /// <summary>A partial or final reply, in either framing.</summary>
    private void OnReply(BrokerConnection connection, in MessageFields reply)
    {
        if (!_pending.TryGetValue(reply.Rid, out var request) || !request.IsAt(connection))
        {
            RaiseError(PigatoErrorCodes.RequestInvalid, $"Reply for request {Utf8.Decode(reply.Rid)}, which is not pending.");
            return;
        }

        if (request.BudgetEnd != long.MaxValue && Options.TimeProvider.GetTimestamp() is var now && now >= request.BudgetEnd)
        {
            // Past the caller's deadline, whatever came (the worker's own "out of time" included): the caller's timeout.
            Fail(request, request.TimedOut(now));
            return;
        }

        var status = reply.Status;
        var data = reply.Data;
        var options = reply.Options;
        request.Touch();
        if (reply.Kind == PigatoMessageKind.PartialReply)
        {
            request.OnPartial(status, data, options);
        }
        else if (request.Frames!.Retry && _connections.Count > 1 && IsBrokerStopping(status, data, options))
        {
            // A broker stopping (a rolling restart) hands its requests back: another broker takes a retry request.
            connection.BrokerStopping = true;
            Resend(request);
        }
        else if (_connections.Count > 1 && IsBrokerError(status, data, options, NoWorkersValue) && ++request.NoWorkersReplies < _connections.Count)
        {
            // This broker has no worker for it: another one may (it never ran, so sending it again is safe).
            Resend(request, avoid: connection);
        }
        else if (request.TryComplete())
        {
            _pending.TryRemove(request.RidFrame);
            var error = PigatoDecoder.IsOkStatus(status) ? null : Utf8.Decode(data).Trim('"');
            Tracing.Stop(request.Activity, error);
            ActorMetrics.RequestEnded(request.Service, Options.TimeProvider, request.SentAt, error);
            using (NoSynchronizationContext.Enter())
            {
                request.OnFinal(status, data, options);
            }
        }
    }

    void IBrokerConnectionOwner.OnClosing(BrokerConnection connection)
    {
    }

    void IBrokerConnectionOwner.OnHandshakeFailed(BrokerConnection connection)
    {
        var message = connection.HandshakeFailure;
        RaiseError(PigatoErrorCodes.Handshake, message);
        foreach (var request in _pending.Values)
        {
            if (request.IsAt(connection))
            {
                Fail(request, new PigatoException(PigatoErrorCodes.Handshake, message));
            }
        }
    }

    /// <summary>
    /// The connection closed with requests sent on it: their replies would go to an identity that no longer exists.
    /// A <c>persist</c> request is sent again under the same rid, to a live broker (or once one is back), which re-attaches
    /// it to the new identity (from its store after a restart). A <c>retry</c> request is sent again, under a new id, to a
    /// live broker (it may then run twice, as retry allows; the worker sees <c>attempt</c> and <c>firstRid</c> in its
    /// options). Any other fails at once with <c>ERR_BROKER_LOST</c> instead of waiting for its timeout.
    /// </summary>
    void IBrokerConnectionOwner.OnClosed(BrokerConnection connection, bool wasConnected)
    {
        IsConnected = _connections.Any(c => c != connection && c.IsConnected);
        if (_stopping)
        {
            return;
        }

        foreach (var request in _pending.Values)
        {
            if (!request.IsAt(connection))
            {
                continue;
            }

            if (request.Frames!.Persist)
            {
                request.Connection = null;
                SendRequest(request);
            }
            else if (!request.Frames.Retry)
            {
                Fail(request, new PigatoException(PigatoErrorCodes.BrokerLost, $"The broker at {connection.Endpoint} was lost while request to '{request.Service}' was pending."));
            }
            else
            {
                Resend(request);
            }
        }

        if (wasConnected)
        {
            Disconnected?.Invoke(this, EventArgs.Empty);
        }
    }

    /// <summary>The hello's JSON: <c>"v":2</c> unless the framing is v1 only, and the credential when there is one.</summary>
    private byte[] HelloJson()
    {
        var hello = new System.Text.Json.Nodes.JsonObject();
        if (Options.Framing == Framing.Auto)
        {
            hello["v"] = 2;
        }

        if (Options.Credential is { } credential)
        {
            hello["principal"] = credential.Principal;
            hello["token"] = credential.Token;
        }

        return System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(hello, JsonObjectContext.Default.JsonObject);
    }

    private static bool IsBrokerStopping(ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options) =>
        IsBrokerError(status, data, options, "\"ERR_BROKER_STOPPED\""u8);

    /// <summary>The data frame of a broker's <c>ERR_NO_WORKERS</c>.</summary>
    private static ReadOnlySpan<byte> NoWorkersValue => "\"ERR_NO_WORKERS\""u8;

    /// <summary>An error reply the broker made itself (options <c>{"origin":"broker"}</c>, which it strips from workers' replies) with this value.</summary>
    private static bool IsBrokerError(ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options, ReadOnlySpan<byte> value) =>
        !PigatoDecoder.IsOkStatus(status) && options.SequenceEqual(PigatoFrames.BrokerOrigin.Span) && data.SequenceEqual(value);

    /// <summary>Sends a <c>retry</c> request again under a new id, to a live broker; replies to the old id are dropped.</summary>
    private void Resend(PendingRequest request, BrokerConnection? avoid = null)
    {
        if (!_pending.TryRemove(request.RidFrame))
        {
            return;
        }

        request.FirstRid ??= request.Rid;
        request.RenewRid();
        request.Connection = null;
        request.Attempt++;
        request.Frames = request.Frames! with { Options = JsonFrame.WithFields(request.Frames.Options, ("attempt", request.Attempt), ("firstRid", request.FirstRid)) };
        _pending.Add(request);
        if (request.IsCompleted)
        {
            // Cancelled meanwhile, under the old id: do not leave the new id behind.
            _pending.TryRemove(request.RidFrame);
            return;
        }

        SendRequest(request, avoid);
    }

    /// <summary>
    /// Where the next request goes: round robin over the brokers that have answered on their current connection; when none
    /// has yet, over those being connected to (ZeroMQ queues until the connection is up); null when every one is down.
    /// </summary>
    private BrokerConnection? Route(BrokerConnection? avoid = null)
    {
        BrokerConnection? open = null, failing = null;
        for (var i = 0; i < _connections.Count; i++)
        {
            var connection = _connections[(_nextRoute + i) % _connections.Count];
            if (connection.BrokerStopping || connection == avoid)
            {
                continue;
            }

            if (connection.IsConnected)
            {
                _nextRoute = (_nextRoute + i + 1) % _connections.Count;
                return connection;
            }

            if (connection.IsOpen)
            {
                // One still connecting may answer; one whose handshake fails will not.
                if (connection.HandshakeFailed)
                {
                    failing ??= connection;
                }
                else
                {
                    open ??= connection;
                }
            }
        }

        return open ?? failing;
    }

    private void SendWaitingRequests()
    {
        if (_waitingForConnection.Count == 0)
        {
            return;
        }

        var waiting = _waitingForConnection.ToArray();
        _waitingForConnection.Clear();
        foreach (var request in waiting)
        {
            SendRequest(request);
        }
    }

    private void OnHeartbeatTick()
    {
        foreach (var connection in _connections)
        {
            if (!connection.Tick())
            {
                continue;
            }

            connection.Send(0, static (w, _) => PigatoEncoder.ClientHeartbeat(w));
            if (Options.HeartbeatRequests)
            {
                var threshold = Options.TimeProvider.GetTimestamp() - (long)(Options.HeartbeatInterval.TotalSeconds * Options.TimeProvider.TimestampFrequency);
                foreach (var request in _pending.Values)
                {
                    if (request.IsAt(connection) && request.SentAt < threshold)
                    {
                        connection.Send(request.RidFrame, static (w, rid) => PigatoEncoder.ClientRequestHeartbeat(w, rid));
                    }
                }
            }
        }
    }

    /// <summary>Fails with C_TIMEOUT every request whose time without activity has passed its timeout.</summary>
    private void ExpireRequests()
    {
        var now = Options.TimeProvider.GetTimestamp();
        if (now < _nextDeadline)
        {
            return;
        }

        // A request sent from a failed request's callback (it runs here, on the loop) lowers _nextDeadline meanwhile.
        _nextDeadline = long.MaxValue;
        var next = long.MaxValue;
        foreach (var request in _pending.Values)
        {
            var deadline = request.Deadline;
            if (deadline <= now)
            {
                Fail(request, request.TimedOut(now));
            }
            else
            {
                next = Math.Min(next, deadline);
            }
        }

        _nextDeadline = Math.Min(_nextDeadline, next);
    }

    /// <summary>Sends a request on the routed connection, or keeps it until a connection opens (loop thread).</summary>
    private void SendRequest(PendingRequest request, BrokerConnection? avoid = null)
    {
        if (request.IsCompleted)
        {
            return;
        }

        var connection = Route(avoid) ?? (avoid is { IsOpen: true } ? avoid : null);
        if (Options.FailFastWithoutBroker && connection is not { IsConnected: true })
        {
            Fail(request, new PigatoException(PigatoErrorCodes.NoBroker, $"No broker of {string.Join(", ", Options.Brokers)} is live; request to '{request.Service}' failed at once (ClientOptions.FailFastWithoutBroker)."));
            return;
        }

        if (connection is { HandshakeFailed: true })
        {
            // Sent after the failure was reported: it would wait for its timeout on a connection that never answers.
            Fail(request, new PigatoException(PigatoErrorCodes.Handshake, connection.HandshakeFailure));
            return;
        }

        if (connection is null)
        {
            _waitingForConnection.Add(request);
            return;
        }

        SendOn(connection, request);
    }

    /// <summary>Sends a request on <paramref name="connection"/> in its framing; it is then at that connection's identity.</summary>
    private void SendOn(BrokerConnection connection, PendingRequest request)
    {
        if (!connection.SendRequest(request.Frames!, request.RidFrame))
        {
            Fail(request, new PigatoException(PigatoErrorCodes.Unroutable, $"Request to '{request.Service}' could not be queued towards the broker."));
            return;
        }

        request.Connection = connection;
        request.Generation = connection.Generation;
        if (request.Attempt == 0)
        {
            request.Attempt = 1;
        }

        request.Touch();
        _nextDeadline = Math.Min(_nextDeadline, request.Deadline);
    }

    /// <summary>Ends a request with <paramref name="exception"/> unless it ended already; true when this call ended it. Any thread.</summary>
    private bool Fail(PendingRequest request, Exception exception)
    {
        if (!request.TryComplete())
        {
            return false;
        }

        _pending.TryRemove(request.RidFrame);
        var error = (exception as PigatoException)?.Code ?? exception.GetType().Name;
        Tracing.Stop(request.Activity, error);
        ActorMetrics.RequestEnded(request.Service, Options.TimeProvider, request.SentAt, error);
        using (NoSynchronizationContext.Enter())
        {
            request.OnFailed(exception);
        }

        return true;
    }

    /// <summary>
    /// Ends a request the caller gave up on (a cancelled token, a stream left early, <see cref="CancelRequest"/>) and tells
    /// its broker, so that the work stops there too: a queued request is dropped, a worker's handler sees its token trip.
    /// Any thread.
    /// </summary>
    private void Cancel(PendingRequest request, Exception exception)
    {
        if (!Fail(request, exception) || _loop is not { } loop)
        {
            return;
        }

        try
        {
            loop.RunOrPost(_tellCancelled, request);
        }
        catch (PigatoException)
        {
            // Stopped meanwhile: the broker settles what the client held.
        }
    }

    /// <summary>
    /// Sends <c>C, 4, cancel, rid</c> on the connection the request waits on, when that broker agreed on v2 (a Pigato for
    /// .NET broker: PIGATO for Node.js has no such message; its workers see the request heartbeats stop). Loop thread.
    /// </summary>
    private static void TellCancelled(PendingRequest request)
    {
        if (request.Connection is { } connection && request.IsAt(connection))
        {
            connection.SendCancel(request.RidFrame);
        }
    }
}
