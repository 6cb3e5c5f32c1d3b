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
        Id = connection.Id;
        IsConnected = false;
        connection.Send((_service, Status: StatusJson()), static (w, s) => PigatoEncoder.WorkerReady(w, s._service, s.Status));
    }

    void IBrokerConnectionOwner.OnConnected(BrokerConnection connection)
    {
        IsConnected = true;
        Connected?.Invoke(this, EventArgs.Empty);
    }

    void IBrokerConnectionOwner.OnMessage(BrokerConnection connection, ReceivedFrames frames)
    {
        var decoded = PigatoDecoder.ForWorker(frames);
        switch (decoded.Kind)
        {
            case PigatoMessageKind.Request:
                OnRequest(connection, frames);
                break;
            case PigatoMessageKind.RequestHeartbeat:
                if (_active.TryGetValue(Utf8.Decode(frames[PigatoFrames.WorkerRequestHeartbeatRid]), out var reply))
                {
                    reply.Refresh(Options.Liveness);
                }

                break;
            case PigatoMessageKind.Disconnect:
                Log.Connection(_logger, nameof(Worker), connection.Id!, "DISCONNECT from broker; registering again");
                connection.Restart();
                break;
            case PigatoMessageKind.ReadyAnswer:
            case PigatoMessageKind.Heartbeat:
                break;
            default:
                RaiseError(decoded.Error!, "Malformed message from the broker ignored.");
                break;
        }
    }

    /// <summary>A worker that leaves says so, so that the broker re-queues or fails its requests at once.</summary>
    void IBrokerConnectionOwner.OnClosing(BrokerConnection connection) =>
        connection.Send(0, static (w, _) => PigatoEncoder.WorkerDisconnect(w));

    /// <summary>The broker forgot this identity's requests: their replies can no longer be delivered.</summary>
    void IBrokerConnectionOwner.OnClosed(BrokerConnection connection, bool wasConnected)
    {
        foreach (var reply in _active.Values)
        {
            if (reply.Generation == connection.Generation)
            {
                reply.Deactivate();
            }
        }

        _active.Clear();
        if (wasConnected)
        {
            IsConnected = false;
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
        connection.Send(StatusJson(update), static (w, status) => PigatoEncoder.WorkerHeartbeat(w, status));

    /// <summary>The status frame: <c>{"concurrency":n}</c> (0 while draining), with <c>"update":true</c> when a core service asks for the directory.</summary>
    private byte[] StatusJson(bool update = false) =>
        Encoding.UTF8.GetBytes($"{{\"concurrency\":{(_draining ? 0 : Concurrency)}{(update ? ",\"update\":true" : "")}}}");
}
