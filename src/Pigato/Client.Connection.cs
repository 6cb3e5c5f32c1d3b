using System.Diagnostics;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

/// <summary>The client's side of its broker connections: replies, heartbeats, timeouts and reconnection (loop thread).</summary>
public sealed partial class Client : IBrokerConnectionOwner
{
    private readonly List<PendingRequest> _waitingForConnection = [];
    private long _nextDeadline = long.MaxValue;

    void IBrokerConnectionOwner.OnOpened(BrokerConnection connection)
    {
        Id = connection.Id;
        IsConnected = false;
        connection.Send(0, static (w, _) => PigatoEncoder.ClientHeartbeat(w));
        var waiting = _waitingForConnection.ToArray();
        _waitingForConnection.Clear();
        foreach (var request in waiting)
        {
            SendRequest(request);
        }
    }

    void IBrokerConnectionOwner.OnConnected(BrokerConnection connection)
    {
        IsConnected = true;
        Connected?.Invoke(this, EventArgs.Empty);
    }

    void IBrokerConnectionOwner.OnMessage(BrokerConnection connection, ReceivedFrames frames)
    {
        var decoded = PigatoDecoder.ForClient(frames);
        if (!decoded.IsValid || frames.Truncated)
        {
            RaiseError(decoded.Error ?? PigatoErrorCodes.MessageLength, "Malformed message from the broker ignored.");
            return;
        }

        if (decoded.Kind == PigatoMessageKind.Heartbeat)
        {
            return;
        }

        var rid = Utf8.Decode(frames[PigatoFrames.ClientReplyRid]);
        if (!_pending.TryGetValue(rid, out var request) || request.Generation != connection.Generation)
        {
            RaiseError(PigatoErrorCodes.RequestInvalid, $"Reply for request {rid}, which is not pending.");
            return;
        }

        var status = frames[PigatoFrames.ClientReplyStatus];
        var data = frames.Optional(PigatoFrames.ClientReplyData);
        var options = frames.Optional(PigatoFrames.ClientReplyOptions);
        request.Touch();
        if (decoded.Kind == PigatoMessageKind.PartialReply)
        {
            request.OnPartial(status, data, options);
        }
        else if (request.TryComplete())
        {
            _pending.TryRemove(rid, out _);
            request.OnFinal(status, data, options);
        }
    }

    void IBrokerConnectionOwner.OnClosing(BrokerConnection connection)
    {
    }

    /// <summary>
    /// The connection closed with requests sent on it: their replies would go to an identity that no longer
    /// exists. A <c>retry</c> request is sent again under a new id (it may then run twice, as retry allows);
    /// any other fails at once with <c>ERR_CLIENT_RECONNECTED</c> instead of waiting for its timeout.
    /// </summary>
    void IBrokerConnectionOwner.OnClosed(BrokerConnection connection, bool wasConnected)
    {
        IsConnected = false;
        if (_stopping)
        {
            return;
        }

        foreach (var request in _pending.Values)
        {
            if (request.Generation != connection.Generation)
            {
                continue;
            }

            if (!request.Frames!.Retry)
            {
                Fail(request, new PigatoException(PigatoErrorCodes.ClientReconnected, $"The connection to the broker was lost while request to '{request.Service}' was pending."));
            }
            else if (_pending.TryRemove(request.Rid, out _))
            {
                request.RenewRid();
                request.Generation = 0;
                _pending[request.Rid] = request;
                if (request.IsCompleted)
                {
                    // Cancelled meanwhile, under the old id: do not leave the new id behind.
                    _pending.TryRemove(request.Rid, out _);
                    continue;
                }

                SendRequest(request);
            }
        }

        if (wasConnected)
        {
            Disconnected?.Invoke(this, EventArgs.Empty);
        }
    }

    /// <summary>The connection requests go to (one broker for now; the list is ready for more).</summary>
    private BrokerConnection? Route() => _connections.Count > 0 && _connections[0].IsOpen ? _connections[0] : null;

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
                var threshold = Stopwatch.GetTimestamp() - (long)(Options.HeartbeatInterval.TotalSeconds * Stopwatch.Frequency);
                foreach (var request in _pending.Values)
                {
                    if (request.Generation == connection.Generation && request.SentAt < threshold)
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
        var now = Stopwatch.GetTimestamp();
        if (now < _nextDeadline)
        {
            return;
        }

        var next = long.MaxValue;
        foreach (var request in _pending.Values)
        {
            var deadline = request.Deadline;
            if (deadline <= now)
            {
                Fail(request, new PigatoTimeoutException(request.Service, request.Timeout));
            }
            else
            {
                next = Math.Min(next, deadline);
            }
        }

        _nextDeadline = next;
    }

    /// <summary>Sends a request on the routed connection, or keeps it until a connection opens (loop thread).</summary>
    private void SendRequest(PendingRequest request)
    {
        if (request.IsCompleted)
        {
            return;
        }

        if (Route() is not { } connection)
        {
            _waitingForConnection.Add(request);
            return;
        }

        if (!connection.Send(request, static (w, r) => PigatoEncoder.ClientRequest(w, r.Frames!.Service, r.RidFrame, r.Frames.Data, r.Frames.Options)))
        {
            Fail(request, new PigatoException(PigatoErrorCodes.Unroutable, $"Request to '{request.Service}' could not be queued towards the broker."));
            return;
        }

        request.Generation = connection.Generation;
        request.Touch();
        _nextDeadline = Math.Min(_nextDeadline, request.Deadline);
    }

    private void Fail(PendingRequest request, Exception exception)
    {
        if (request.TryComplete())
        {
            _pending.TryRemove(request.Rid, out _);
            request.OnFailed(exception);
        }
    }
}
