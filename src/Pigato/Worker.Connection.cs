using System.Text;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

/// <summary>The worker's side of its broker connections: registration, heartbeats, messages from the broker (loop thread).</summary>
public sealed partial class Worker : IBrokerConnectionOwner
{
    /// <summary>Core services only: a heartbeat with <c>update</c> makes the broker republish its directory.</summary>
    internal void RequestDirectoryUpdate() => _loop?.Post(() => SendHeartbeats(update: true));

    internal void SendHeartbeatSoon() => _loop?.Post(() => SendHeartbeats());

    void IBrokerConnectionOwner.OnOpened(BrokerConnection connection)
    {
        Id = _connections[0].Id;
        connection.Send((_service, Status: StatusJson(connection, credential: Options.Credential, ready: true)), static (w, s) => PigatoEncoder.WorkerReady(w, s._service, s.Status));
    }

    void IBrokerConnectionOwner.OnConnected(BrokerConnection connection)
    {
        IsConnected = true;
        _events.Connected(() => Connected?.Invoke(this, EventArgs.Empty));
    }

    void IBrokerConnectionOwner.OnMessage(BrokerConnection connection, in MessageFields message)
    {
        switch (message.Kind)
        {
            case PigatoMessageKind.Request:
                OnRequest(connection, message);
                break;
            case PigatoMessageKind.RequestHeartbeat:
                if (_active.TryGet(message.ClientId, message.Rid, out var reply))
                {
                    reply.Refresh(Options.Liveness);
                }

                break;
            case PigatoMessageKind.RequestCancel:
                if (_active.TryGet(message.ClientId, message.Rid, out var cancelled))
                {
                    // Its client gave up: the handler's token trips now, not after the liveness. Whatever it still sends is dropped by the broker.
                    Log.Request(_logger, cancelled.RequestId, cancelled.Service, "cancelled by its client");
                    cancelled.Deactivate();
                }

                break;
            case PigatoMessageKind.Disconnect:
                OnDisconnect(connection);
                break;
            case PigatoMessageKind.ReadyAnswer:
                // The connection took note of the framing agreed.
                connection.Registered = true;
                connection.Refusals = 0;
                _registered.TrySetResult();
                break;
            case PigatoMessageKind.Heartbeat:
                break;
            default:
                RaiseError(message.Error ?? PigatoErrorCodes.MessageType, "Malformed message from the broker ignored.");
                break;
        }
    }

    /// <summary>
    /// DISCONNECT from the broker. After a registration it answered (the broker restarted, or purged this worker) the worker
    /// registers again at once. Before any answer it was refused: it says why it most likely was and tries again after a
    /// delay that doubles with each refusal in a row, with jitter, up to <see cref="MaxRefusalBackoff"/>.
    /// </summary>
    private void OnDisconnect(BrokerConnection connection)
    {
        if (connection.Registered)
        {
            Log.Connection(_logger, nameof(Worker), connection.Id!, connection.Endpoint, "DISCONNECT from broker; registering again");
            connection.Refusals = 0;
            connection.Restart();
            return;
        }

        var refusals = ++connection.Refusals;
        var doubled = Options.ReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(refusals, 20));
        var delay = TimeSpan.FromMilliseconds(Math.Min(doubled, MaxRefusalBackoff.TotalMilliseconds) * (0.8 + (0.4 * Random.Shared.NextDouble())));
        RaiseError(PigatoErrorCodes.Unauthenticated, $"The broker at {connection.Endpoint} refused the registration of '{Service}' ({refusals} in a row): most likely its permissions do not let this worker's principal serve '{Service}', or the credential is wrong. Registering again in {delay.TotalSeconds:0.#} s.");
        connection.Restart(delay);
    }

    /// <summary>The longest pause between registrations the broker refuses.</summary>
    private static readonly TimeSpan MaxRefusalBackoff = TimeSpan.FromSeconds(30);

    void IBrokerConnectionOwner.OnHandshakeFailed(BrokerConnection connection) =>
        RaiseError(PigatoErrorCodes.Handshake, connection.HandshakeFailure);

    /// <summary>A worker that leaves says so, so that the broker re-queues or fails its requests at once.</summary>
    void IBrokerConnectionOwner.OnClosing(BrokerConnection connection) =>
        connection.Send(0, static (w, _) => PigatoEncoder.WorkerDisconnect(w));

    /// <summary>
    /// The connection came back under the same identity: a heartbeat at once, so that a broker that restarted meanwhile and
    /// does not know this worker says so (DISCONNECT: the worker registers again) without waiting for the next period.
    /// </summary>
    void IBrokerConnectionOwner.OnTransportResumed(BrokerConnection connection) => SendHeartbeat(connection);

    /// <summary>The broker forgot this identity's requests: their replies can no longer be delivered.</summary>
    void IBrokerConnectionOwner.OnClosed(BrokerConnection connection, bool wasConnected)
    {
        List<WorkerReply>? gone = null;
        foreach (var reply in _active.Values)
        {
            if (reply.Connection == connection && reply.Generation == connection.Generation)
            {
                reply.Deactivate();
                (gone ??= []).Add(reply);
            }
        }

        foreach (var reply in gone ?? [])
        {
            _active.Remove(reply);
        }

        IsConnected = _connections.Any(c => c != connection && c.IsConnected);
        if (!IsConnected && _registered.Task.IsCompleted)
        {
            Volatile.Write(ref _registered, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }

        if (wasConnected)
        {
            Disconnected?.Invoke(this, EventArgs.Empty);
        }
    }

    private void OnHeartbeatTick()
    {
        foreach (var connection in _connections)
        {
            if (connection.Tick())
            {
                SendHeartbeat(connection);
            }
        }

        foreach (var reply in _active.Values)
        {
            reply.Tick();
        }
    }

    private void SendHeartbeats(bool update = false)
    {
        foreach (var connection in _connections)
        {
            SendHeartbeat(connection, update);
        }
    }

    private void SendHeartbeat(BrokerConnection connection, bool update = false) =>
        connection.Send(StatusJson(connection, update), static (w, status) => PigatoEncoder.WorkerHeartbeat(w, status));

    /// <summary>
    /// The status frame: <c>{"concurrency":n}</c>, with <c>"update":true</c> when a core service asks for the directory.
    /// With one broker, n is the worker's limit (0 while draining). With several, the budget is shared: each broker is
    /// told what it holds here plus what is free, so that brokers route around a full worker.
    /// </summary>
    /// <remarks>
    /// READY also carries the framing the worker speaks (<c>"v":2</c>, docs/PROTOCOL-V2.md) and its credential (principal
    /// and token, inside CURVE) when it has one.
    /// </remarks>
    private byte[] StatusJson(BrokerConnection connection, bool update = false, Security.PigatoCredential? credential = null, bool ready = false)
    {
        var limit = _draining ? 0 : Concurrency;
        if (limit > 0 && _connections.Count > 1)
        {
            var here = _active.Values.Count(r => r.Connection == connection && !r.Ended);
            limit = here + Math.Max(0, limit - Volatile.Read(ref _running));
        }

        var announceV2 = ready && Options.Framing == Framing.Auto;
        if (credential is not null)
        {
            var status = new System.Text.Json.Nodes.JsonObject { ["concurrency"] = limit, ["principal"] = credential.Principal, ["token"] = credential.Token };
            if (announceV2)
            {
                status["v"] = 2;
            }

            return System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(status, Internal.JsonObjectContext.Default.JsonObject);
        }

        return Encoding.UTF8.GetBytes($"{{\"concurrency\":{limit}{(update ? ",\"update\":true" : "")}{(announceV2 ? ",\"v\":2" : "")}}}");
    }
}
