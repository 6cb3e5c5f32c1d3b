using CsCheck;
using Pigato.Protocol;
using Pigato.Protocol.Compact;

namespace Pigato.Tests.Protocol;

/// <summary>The v2 messages: each kind reads back as written for the side that receives it, and any bytes are read or refused.</summary>
public class CompactCodecTests
{
    private static readonly Gen<byte[]> Field = Gen.Frequency((4, Gen.Byte.Array[0, 30]), (1, Gen.Byte.Array[128, 400]));

    [Fact]
    public void Requests_ReadBackAsWritten()
    {
        Gen.Select(Field, Field, Field, Field, Field).Sample((client, service, rid, data, options) =>
        {
            var fromClient = CompactCodec.ForBroker(CompactCodec.ClientRequest(service, rid, data, options).ToArray());
            Assert.Equal(PigatoMessageKind.ClientRequest, fromClient.Kind);
            Assert.Equal(service, fromClient.Service.ToArray());
            Assert.Equal(rid, fromClient.Rid.ToArray());
            Assert.Equal(data, fromClient.Data.ToArray());
            Assert.Equal(options, fromClient.Options.ToArray());

            var toWorker = CompactCodec.ForWorker(CompactCodec.WorkerRequest(client, service, rid, data, options).ToArray());
            Assert.Equal(PigatoMessageKind.Request, toWorker.Kind);
            Assert.Equal(client, toWorker.ClientId.ToArray());
            Assert.Equal(service, toWorker.Service.ToArray());
            Assert.Equal(rid, toWorker.Rid.ToArray());
            Assert.Equal(data, toWorker.Data.ToArray());
            Assert.Equal(options, toWorker.Options.ToArray());
        });
    }

    [Fact]
    public void Replies_ReadBackAsWritten_WithTheirStatus()
    {
        Gen.Select(Field, Field, Field, Field, Gen.Bool, Gen.Int[0, 2]).Sample((client, rid, data, options, error, type) =>
        {
            var kind = type switch { 0 => MessageType.ReplyPartial, 1 => MessageType.Reply, _ => MessageType.ReplyReject };
            var fromWorker = CompactCodec.ForBroker(CompactCodec.WorkerReply(kind, client, rid, error && kind != MessageType.ReplyReject, data, options).ToArray());
            Assert.Equal(kind switch { MessageType.ReplyPartial => PigatoMessageKind.WorkerPartialReply, MessageType.Reply => PigatoMessageKind.WorkerFinalReply, _ => PigatoMessageKind.WorkerReject }, fromWorker.Kind);
            Assert.Equal(client, fromWorker.ClientId.ToArray());
            Assert.Equal(rid, fromWorker.Rid.ToArray());
            Assert.Equal(data, fromWorker.Data.ToArray());
            Assert.Equal(options, fromWorker.Options.ToArray());
            Assert.Equal(error && kind != MessageType.ReplyReject, fromWorker.IsError);

            var toClient = CompactCodec.ForClient(CompactCodec.ClientReply(type == 1, rid, error, data, options).ToArray());
            Assert.Equal(type == 1 ? PigatoMessageKind.FinalReply : PigatoMessageKind.PartialReply, toClient.Kind);
            Assert.Equal(rid, toClient.Rid.ToArray());
            Assert.Equal(data, toClient.Data.ToArray());
            Assert.Equal(options, toClient.Options.ToArray());
            Assert.Equal(error ? "-1"u8.ToArray() : "0"u8.ToArray(), toClient.Status.ToArray());
        });
    }

    [Fact]
    public void AMessage_IsOnlyValid_ForTheSideThatReceivesIt()
    {
        var request = CompactCodec.ClientRequest("echo"u8.ToArray(), "r"u8.ToArray(), "1"u8.ToArray(), default).ToArray();
        Assert.Equal(PigatoErrorCodes.MessageType, CompactCodec.ForClient(request).Error);
        Assert.Equal(PigatoErrorCodes.MessageType, CompactCodec.ForWorker(request).Error);
        var reply = CompactCodec.ClientReply(true, "r"u8, false, "1"u8, default).ToArray();
        Assert.Equal(PigatoErrorCodes.MessageType, CompactCodec.ForBroker(reply).Error);
    }

    [Fact]
    public void AnErrorFlag_OnARequestOrReject_IsRefused()
    {
        var request = CompactCodec.ClientRequest("echo"u8.ToArray(), "r"u8.ToArray(), "1"u8.ToArray(), default).ToArray();
        request[2] |= CompactCodec.ErrorStatus;
        Assert.Equal(PigatoErrorCodes.MessageType, CompactCodec.ForBroker(request).Error);

        var reject = CompactCodec.WorkerReply(MessageType.ReplyReject, "c"u8.ToArray(), "r"u8.ToArray(), error: true, "1"u8.ToArray(), default).ToArray();
        Assert.Equal(PigatoErrorCodes.MessageType, CompactCodec.ForBroker(reject).Error);
    }

    [Fact]
    public void AnyBytes_AreReadOrRefused_ForEverySide_WithoutThrowing()
    {
        Gen.Byte.Array[0, 48].Sample(bytes =>
        {
            if (bytes.Length > 0)
            {
                bytes[0] = CompactFrame.Version;
            }

            foreach (var fields in new[] { CompactCodec.ForBroker(bytes).Error, CompactCodec.ForClient(bytes).Error, CompactCodec.ForWorker(bytes).Error })
            {
                Assert.True(fields is null or PigatoErrorCodes.MessageLength or PigatoErrorCodes.MessageType);
            }
        });
    }
}
