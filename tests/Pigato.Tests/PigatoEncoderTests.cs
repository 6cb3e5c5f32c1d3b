using System.Text;
using Pigato.Protocol;

namespace Pigato.Tests;

/// <summary>Every row of PROTOCOL.md's frame tables, as written by the encoder.</summary>
public class PigatoEncoderTests
{
    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    private static string[] Encode(Action<FrameList> write)
    {
        var frames = new FrameList();
        write(frames);
        Assert.True(frames.IsOneMessage, "only the last frame may end the message");
        return frames.Texts;
    }

    [Fact]
    public void ClientRequest_WritesHeaderTypeServiceRidDataOptions() =>
        Assert.Equal(["C", "2", "echo", "rid-1", "\"hi\"", "{\"timeout\":60000,\"retry\":0}"],
            Encode(w => PigatoEncoder.ClientRequest(w, B("echo"), B("rid-1"), B("\"hi\""), B("{\"timeout\":60000,\"retry\":0}"))));

    [Fact]
    public void ClientHeartbeat_IsTwoFrames() => Assert.Equal(["C", "4"], Encode(PigatoEncoder.ClientHeartbeat));

    [Fact]
    public void ClientRequestHeartbeat_CarriesRequestTagAndRid() =>
        Assert.Equal(["C", "4", "request", "rid-1"], Encode(w => PigatoEncoder.ClientRequestHeartbeat(w, B("rid-1"))));

    [Fact]
    public void Cancellations_AreTaggedHeartbeats_ThatTheOtherSideReadsBack()
    {
        var client = Encode(w => PigatoEncoder.ClientCancel(w, B("rid")));
        var worker = Encode(w => PigatoEncoder.WorkerCancel(w, B("c1"), B("rid")));

        Assert.Equal(["C", "4", "cancel", "rid"], client);
        Assert.Equal(["W", "4", "c1", "cancel", "rid"], worker);
        Assert.Equal(PigatoMessageKind.ClientCancel, PigatoDecoder.ForBroker(new FrameList(client)).Kind);
        Assert.Equal(PigatoMessageKind.RequestCancel, PigatoDecoder.ForWorker(new FrameList(worker)).Kind);
    }

    [Theory]
    [InlineData(false, "6")]
    [InlineData(true, "3")]
    public void ClientReply_PartialAndFinal(bool final, string type) =>
        Assert.Equal(["C", type, "", "rid-1", "0", "\"x\"", "{}"],
            Encode(w => PigatoEncoder.ClientReply(w, final, B("rid-1"), PigatoFrames.StatusOk, B("\"x\""), B("{}"))));

    [Fact]
    public void WorkerReady_IsServiceName() => Assert.Equal(["W", "1", "echo"], Encode(w => PigatoEncoder.WorkerReady(w, B("echo"))));

    [Fact]
    public void WorkerReady_WithStatus_AddsConcurrencyFrame() =>
        Assert.Equal(["W", "1", "echo", "{\"concurrency\":2}"], Encode(w => PigatoEncoder.WorkerReady(w, B("echo"), B("{\"concurrency\":2}"))));

    [Fact]
    public void WorkerReadyAnswer_IsTwoFrames() => Assert.Equal(["W", "1"], Encode(w => PigatoEncoder.WorkerReadyAnswer(w, compact: false)));

    [Fact]
    public void WorkerReadyAnswer_ToAV2Worker_SaysSo() => Assert.Equal(["W", "1", "{\"v\":2}"], Encode(w => PigatoEncoder.WorkerReadyAnswer(w, compact: true)));

    [Fact]
    public void Hello_IsAHeartbeatWithATagAndJson() => Assert.Equal(["C", "4", "hello", "{\"v\":2}"], Encode(w => PigatoEncoder.Hello(w, "{\"v\":2}"u8.ToArray())));

    [Fact]
    public void WorkerHeartbeat_CarriesEmptyAndConcurrency() =>
        Assert.Equal(["W", "4", "", "{\"concurrency\":-1}"], Encode(w => PigatoEncoder.WorkerHeartbeat(w, B("{\"concurrency\":-1}"))));

    [Fact]
    public void BrokerHeartbeat_IsTwoFrames() => Assert.Equal(["W", "4"], Encode(PigatoEncoder.BrokerHeartbeat));

    [Fact]
    public void Disconnect_IsTwoFrames() => Assert.Equal(["W", "5"], Encode(PigatoEncoder.WorkerDisconnect));

    [Fact]
    public void WorkerRequest_CarriesClientServiceEmptyRidDataOptions() =>
        Assert.Equal(["W", "2", "client-1", "echo", "", "rid-1", "null", "{\"timeout\":-1}"],
            Encode(w => PigatoEncoder.WorkerRequest(w, B("client-1"), B("echo"), B("rid-1"), B("null"), B("{\"timeout\":-1}"))));

    [Fact]
    public void WorkerRequestHeartbeat_CarriesClientEmptyRid() =>
        Assert.Equal(["W", "4", "client-1", "", "rid-1"], Encode(w => PigatoEncoder.WorkerRequestHeartbeat(w, B("client-1"), B("rid-1"))));

    [Theory]
    [InlineData(false, "0", "6")]
    [InlineData(true, "0", "3")]
    [InlineData(true, "-1", "3")]
    public void WorkerReply_PartialFinalAndError(bool final, string status, string type) =>
        Assert.Equal(["W", type, "client-1", "", "rid-1", status, "\"d\"", "{}"],
            Encode(w => PigatoEncoder.WorkerReply(w, final, B("client-1"), B("rid-1"), B(status), B("\"d\""), B("{}"))));

    [Fact]
    public void WorkerReject_CarriesStatusZeroAndReason() =>
        Assert.Equal(["W", "7", "client-1", "", "rid-1", "0", "\"busy\""],
            Encode(w => PigatoEncoder.WorkerReject(w, B("client-1"), B("rid-1"), B("\"busy\""))));

    [Theory]
    [InlineData(MessageType.Ready, "1")]
    [InlineData(MessageType.Request, "2")]
    [InlineData(MessageType.Reply, "3")]
    [InlineData(MessageType.Heartbeat, "4")]
    [InlineData(MessageType.Disconnect, "5")]
    [InlineData(MessageType.ReplyPartial, "6")]
    [InlineData(MessageType.ReplyReject, "7")]
    public void TypeFrame_RoundTrips(object boxed, string frame)
    {
        var type = (MessageType)boxed;
        Assert.Equal(frame, Encoding.UTF8.GetString(PigatoFrames.TypeFrame(type).Span));
        Assert.True(PigatoFrames.TryParseType(B(frame), out var parsed));
        Assert.Equal(type, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("8")]
    [InlineData("12")]
    [InlineData("x")]
    public void TryParseType_RejectsNonTypes(string frame) => Assert.False(PigatoFrames.TryParseType(B(frame), out _));

    [Theory]
    [InlineData("", true)]
    [InlineData("undefined", true)]
    [InlineData("null", false)]
    [InlineData("{}", false)]
    public void IsAbsent_TreatsEmptyAndUndefinedAsNoValue(string frame, bool absent) => Assert.Equal(absent, PigatoFrames.IsAbsent(B(frame)));
}
