using System.Text;
using System.Text.Json;
using Pigato.Internal;
using Pigato.Persistence;
using Pigato.Protocol;
using Pigato.Protocol.Compact;
using Pigato.Routing;
using Pigato.Security;

namespace Pigato.Fuzz;

/// <summary>
/// Every decoder that reads bytes from the network or from disk (and the broker's ZMTP sessions, plain and CURVE), behind one entry point: the first byte of an input picks
/// the target, the rest is what that decoder reads. A decoder must turn any bytes into a value or its documented
/// refusal; any other exception is a finding (AFL records it as a crash).
/// </summary>
internal static class FuzzTargets
{
    /// <summary>The targets, by the first byte of an input (modulo their count).</summary>
    public static readonly string[] Names =
    [
        "v1-broker", "v1-client", "v1-worker", "v2-broker", "v2-client", "v2-worker", "json-frames", "permissions", "stored-request",
        "zmtp-router", "zmtp-curve-router",
    ];

    private const int MaxFrames = 16;

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var payload = input[1..];
        var target = input[0] % Names.Length;
        if (target <= 2)
        {
            var frames = Frames.Split(payload, MaxFrames);
            ReadFields(target switch { 0 => PigatoDecoder.ForBroker(frames), 1 => PigatoDecoder.ForClient(frames), _ => PigatoDecoder.ForWorker(frames) }, frames);
            return;
        }

        switch (target)
        {
            case 3:
                ForEachMessage(payload, static m => ReadFields(CompactCodec.ForBroker(m)));
                break;
            case 4:
                ForEachMessage(payload, static m => ReadFields(CompactCodec.ForClient(m)));
                break;
            case 5:
                ForEachMessage(payload, static m => ReadFields(CompactCodec.ForWorker(m)));
                break;
            case 6:
                ReadJson(payload);
                break;
            case 7:
                ReadPermissions(payload);
                break;
            case 8:
                StoredRequest.Decode([1, 2, 3], payload);
                break;
            case 9:
                ZmtpPeer.Feed(ZmtpPeer.Router, payload);
                break;
            default:
                ZmtpPeer.Feed(ZmtpPeer.CurveRouter, payload);
                break;
        }
    }

    /// <summary>A v1 message's fields, read as the broker reads them: the options and status JSON of any frame.</summary>
    private static void ReadFields(DecodedMessage decoded, Frames frames)
    {
        _ = decoded.Kind;
        for (var i = 0; i < frames.Count; i++)
        {
            ReadJson(frames[i]);
        }
    }

    /// <summary>A v2 message's fields, read as the receiving side reads them.</summary>
    private static void ReadFields(MessageFields fields)
    {
        if (fields.Kind == PigatoMessageKind.Invalid)
        {
            return;
        }

        ReadJson(fields.Options);
        ReadJson(fields.Data);
        _ = Utf8.Decode(fields.Service);
        _ = Utf8.Decode(fields.Rid);
    }

    /// <summary>Each message of a v2 frame, one or a batch, as the receive loops iterate them.</summary>
    private static void ForEachMessage(ReadOnlySpan<byte> frame, ReadMessage read)
    {
        if (!CompactFrame.IsCompact(frame))
        {
            return;
        }

        var messages = new CompactMessages(frame);
        while (messages.MoveNext())
        {
            read(frame[messages.Current]);
        }
    }

    private delegate void ReadMessage(ReadOnlySpan<byte> message);

    /// <summary>The JSON readers of option, status and hello frames; they take any bytes.</summary>
    private static void ReadJson(ReadOnlySpan<byte> frame)
    {
        _ = BrokerRequestOptions.Parse(frame);
        _ = WorkerStatus.Parse(frame);
        _ = JsonFrame.Parse(frame, keepInvalidAsText: true);
        _ = Tracing.Extract(frame);
    }

    /// <summary>A permissions file: valid, or refused with the exceptions <see cref="Permissions.Load"/> turns into ERR_PERMISSIONS.</summary>
    private static void ReadPermissions(ReadOnlySpan<byte> payload)
    {
        try
        {
            Permissions.Parse(Encoding.UTF8.GetString(payload));
        }
        catch (JsonException)
        {
        }
        catch (FormatException)
        {
        }
    }
}
