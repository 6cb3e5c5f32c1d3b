using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

public sealed partial class Broker
{
    private void OnClientRequest()
    {
        var ridFrame = _frames[PigatoFrames.RequestRid];
        if (ridFrame.IsEmpty || _frames[PigatoFrames.RequestService].IsEmpty)
        {
            ReportError(PigatoErrorCodes.RequestInvalid, "Request without a service or a request id.", PeerId());
            return;
        }

        if (Utf8.TryGetValue(_requests, ridFrame, out _))
        {
            ReportError(PigatoErrorCodes.RequestInvalid, $"Request id {Utf8.Decode(ridFrame)} is already in progress; duplicate ignored.", PeerId());
            return;
        }

        var options = _frames.Optional(PigatoFrames.RequestOptions);
        var request = new BrokerRequest(
            ridFrame.ToArray(),
            _frames.Raw(0).ToArray(),
            ServiceFor(_frames[PigatoFrames.RequestService]),
            _frames.Optional(PigatoFrames.RequestData).ToArray(),
            options.ToArray(),
            BrokerRequestOptions.Parse(options));
        _requests.Add(request.Rid, request);
        _metrics?.Received();
        Enqueue(request, atHead: false);
    }

    private void OnClientRequestHeartbeat()
    {
        // The original compares the type frame with 'req' and never forwards (PROTOCOL.md): we forward.
        if (Utf8.TryGetValue(_requests, _frames[PigatoFrames.ClientRequestHeartbeatRid], out var request)
            && request.Worker is { } worker)
        {
            _writer!.Write(worker.Identity, true);
            PigatoEncoder.WorkerRequestHeartbeat(_writer, request.ClientId, request.RidBytes);
            if (!_writer.EndMessage())
            {
                // Request heartbeats are advisory: a failed one never costs the worker its requests.
                ReportError(PigatoErrorCodes.Unroutable, $"Request heartbeat for {request.Rid} could not reach its worker.", worker.Id);
            }
        }
    }

    /// <summary>Sends a final error reply for <paramref name="request"/> on the broker's behalf.</summary>
    private void FailToClient(BrokerRequest request, string error)
    {
        _metrics?.Failed();
        Log.Request(_logger, request.Rid, request.Service.Name, error);
        _writer!.Write(request.ClientId, true);
        PigatoEncoder.ClientReply(_writer, final: true, request.RidBytes, PigatoFrames.StatusError, JsonString(error), PigatoFrames.Null);
        if (!_writer.EndMessage())
        {
            ReportError(PigatoErrorCodes.Unroutable, $"Error reply {error} for request {request.Rid} could not reach its client.", Utf8.Decode(request.ClientId));
        }
    }

    private static byte[] JsonString(string value) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value);
}
