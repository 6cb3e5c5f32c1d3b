using Pigato.Protocol;

namespace Pigato.Tests;

public class PigatoDecoderTests
{
    [Theory]
    [InlineData(PigatoMessageKind.ClientRequest, "C", "2", "echo", "rid", "\"d\"", "{}")]
    [InlineData(PigatoMessageKind.ClientRequest, "C", "2", "echo", "rid")]
    [InlineData(PigatoMessageKind.ClientHeartbeat, "C", "4")]
    [InlineData(PigatoMessageKind.ClientRequestHeartbeat, "C", "4", "request", "rid")]
    [InlineData(PigatoMessageKind.ClientWorkerHeartbeat, "C", "4", "worker", "W-ruby")]
    [InlineData(PigatoMessageKind.ClientCancel, "C", "4", "cancel", "rid")]
    [InlineData(PigatoMessageKind.WorkerReady, "W", "1", "echo")]
    [InlineData(PigatoMessageKind.WorkerReady, "W", "1", "echo", "{\"concurrency\":1}")]
    [InlineData(PigatoMessageKind.WorkerHeartbeat, "W", "4", "", "{\"concurrency\":5}")]
    [InlineData(PigatoMessageKind.WorkerHeartbeat, "W", "4")]
    [InlineData(PigatoMessageKind.WorkerPartialReply, "W", "6", "c", "", "rid", "0", "\"d\"", "{}")]
    [InlineData(PigatoMessageKind.WorkerFinalReply, "W", "3", "c", "", "rid", "-1", "\"e\"", "undefined")]
    [InlineData(PigatoMessageKind.WorkerFinalReply, "W", "3", "c", "", "rid", "0")]
    [InlineData(PigatoMessageKind.WorkerReject, "W", "7", "c", "", "rid", "0", "\"r\"")]
    [InlineData(PigatoMessageKind.WorkerDisconnect, "W", "5")]
    public void ForBroker_AcceptsEveryInboundRow(object kind, params string[] frames) =>
        Assert.Equal(DecodedMessage.Of((PigatoMessageKind)kind), PigatoDecoder.ForBroker(new FrameList(frames)));

    [Theory]
    [InlineData(PigatoErrorCodes.MessageLength, "C")]
    [InlineData(PigatoErrorCodes.MessageLength)]
    [InlineData(PigatoErrorCodes.MessageHeader, "X", "2", "echo", "rid")]
    [InlineData(PigatoErrorCodes.MessageHeader, "MDPC01", "2")]
    [InlineData(PigatoErrorCodes.MessageType, "C", "9")]
    [InlineData(PigatoErrorCodes.MessageType, "C", "3", "x")]
    [InlineData(PigatoErrorCodes.MessageType, "W", "2", "x")]
    [InlineData(PigatoErrorCodes.MessageLength, "C", "2", "echo")]
    [InlineData(PigatoErrorCodes.MessageLength, "C", "4", "request")]
    [InlineData(PigatoErrorCodes.MessageLength, "W", "1")]
    [InlineData(PigatoErrorCodes.MessageLength, "W", "3", "c", "", "rid")]
    [InlineData(PigatoErrorCodes.MessageLength, "W", "7", "c", "")]
    public void ForBroker_RejectsMalformedWithCode(string code, params string[] frames)
    {
        var decoded = PigatoDecoder.ForBroker(new FrameList(frames));
        Assert.False(decoded.IsValid);
        Assert.Equal(code, decoded.Error);
    }

    [Theory]
    [InlineData(PigatoMessageKind.Heartbeat, "C", "4")]
    [InlineData(PigatoMessageKind.PartialReply, "C", "6", "", "rid", "0", "\"d\"", "{}")]
    [InlineData(PigatoMessageKind.FinalReply, "C", "3", "", "rid", "-1", "\"e\"", "undefined")]
    [InlineData(PigatoMessageKind.FinalReply, "C", "3", "", "rid", "0")]
    public void ForClient_AcceptsEveryInboundRow(object kind, params string[] frames) =>
        Assert.Equal((PigatoMessageKind)kind, PigatoDecoder.ForClient(new FrameList(frames)).Kind);

    [Theory]
    [InlineData(PigatoErrorCodes.MessageHeader, "W", "3", "", "rid", "0")]
    [InlineData(PigatoErrorCodes.MessageHeader)]
    [InlineData(PigatoErrorCodes.MessageLength, "C")]
    [InlineData(PigatoErrorCodes.MessageLength, "C", "3", "", "rid")]
    [InlineData(PigatoErrorCodes.MessageType, "C", "2", "", "rid", "0")]
    [InlineData(PigatoErrorCodes.MessageType, "C", "x")]
    public void ForClient_RejectsMalformedWithCode(string code, params string[] frames) =>
        Assert.Equal(code, PigatoDecoder.ForClient(new FrameList(frames)).Error);

    [Theory]
    [InlineData(PigatoMessageKind.ReadyAnswer, "W", "1")]
    [InlineData(PigatoMessageKind.Heartbeat, "W", "4")]
    [InlineData(PigatoMessageKind.RequestHeartbeat, "W", "4", "c", "", "rid")]
    [InlineData(PigatoMessageKind.RequestCancel, "W", "4", "c", "cancel", "rid")]
    [InlineData(PigatoMessageKind.Request, "W", "2", "c", "echo", "", "rid", "\"d\"", "{}")]
    [InlineData(PigatoMessageKind.Request, "W", "2", "c", "echo", "", "rid")]
    [InlineData(PigatoMessageKind.Disconnect, "W", "5")]
    public void ForWorker_AcceptsEveryInboundRow(object kind, params string[] frames) =>
        Assert.Equal((PigatoMessageKind)kind, PigatoDecoder.ForWorker(new FrameList(frames)).Kind);

    [Theory]
    [InlineData(PigatoErrorCodes.MessageHeader, "C", "2")]
    [InlineData(PigatoErrorCodes.MessageLength, "W", "2", "c", "echo", "")]
    [InlineData(PigatoErrorCodes.MessageLength, "W", "4", "c")]
    [InlineData(PigatoErrorCodes.MessageType, "W", "6")]
    public void ForWorker_RejectsMalformedWithCode(string code, params string[] frames) =>
        Assert.Equal(code, PigatoDecoder.ForWorker(new FrameList(frames)).Error);
}
