using CsCheck;
using Pigato.Protocol;
using Pigato.Protocol.Compact;

namespace Pigato.Tests.Protocol;

/// <summary>The v2 layout of docs/PROTOCOL-V2.md: what is written is read back, and malformed frames are refused, never thrown on.</summary>
public class CompactFrameTests
{
    private static readonly Gen<byte[][]> Fields = Gen.Frequency(
        (3, Gen.Byte.Array[0, 40]),
        (1, Gen.Byte.Array[100, 300])).Array[0, CompactFrame.MaxFields];

    [Fact]
    public void EveryMessage_ReadsBackAsWritten()
    {
        Gen.Select(Gen.Byte, Gen.Byte, Fields).Sample((kind, flags, fields) =>
        {
            var frame = CompactFrame.Encode(kind, flags, [.. fields.Select(f => (ReadOnlyMemory<byte>)f)]);

            Assert.True(CompactFrame.TryRead(frame, out var message, out var error), error);
            Assert.Equal(kind, message.Kind);
            Assert.Equal(flags, message.Flags);
            Assert.Equal(fields.Length, message.Count);
            for (var i = 0; i < fields.Length; i++)
            {
                Assert.Equal(fields[i], message.Field(frame, i).ToArray());
            }
        });
    }

    [Fact]
    public void AnyBytes_AreReadOrRefused_WithoutThrowing()
    {
        Gen.Byte.Array[0, 64].Sample(bytes =>
        {
            if (bytes.Length > 0)
            {
                bytes[0] = CompactFrame.Version;
            }

            if (!CompactFrame.TryRead(bytes, out _, out var error))
            {
                Assert.False(string.IsNullOrEmpty(error));
            }
        });
    }

    [Fact]
    public void ARequest_IsOneFrame_WithItsFieldsInOrder()
    {
        var frame = CompactFrame.Encode((byte)MessageType.Request, 0, "echo"u8.ToArray(), "r1"u8.ToArray(), "\"hi\""u8.ToArray());

        Assert.Equal([0x02, 0x02, 0x00, 4, (byte)'e', (byte)'c', (byte)'h', (byte)'o', 2, (byte)'r', (byte)'1', 4, (byte)'"', (byte)'h', (byte)'i', (byte)'"'], frame);
        Assert.True(CompactFrame.TryRead(frame, out var message, out _));
        Assert.Equal(MessageType.Request, message.Type);
        Assert.False(message.IsWorkerSide);
    }

    [Fact]
    public void AFieldOf200Bytes_HasATwoByteLength()
    {
        var frame = CompactFrame.Encode(CompactFrame.WorkerSide | (byte)MessageType.Reply, 1, new byte[200]);

        Assert.Equal([0xC8, 0x01], frame[3..5]);
        Assert.True(CompactFrame.TryRead(frame, out var message, out _));
        Assert.True(message.IsWorkerSide);
        Assert.Equal(200, message.Field(frame, 0).Length);
    }

    [Theory]
    [InlineData(new byte[] { 0x02, 0x02 }, "not a v2 frame")]
    [InlineData(new byte[] { 0x43, 0x02, 0x00 }, "not a v2 frame")]
    [InlineData(new byte[] { 0x02, 0x02, 0x00, 5, 1, 2 }, "runs past")]
    [InlineData(new byte[] { 0x02, 0x02, 0x00, 0x80 }, "malformed length")]
    [InlineData(new byte[] { 0x02, 0x02, 0x00, 0x81, 0x00 }, "malformed length")]
    [InlineData(new byte[] { 0x02, 0x02, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }, "malformed length")]
    [InlineData(new byte[] { 0x02, 0x02, 0x00, 0, 0, 0, 0, 0, 0 }, "more than 5 fields")]
    public void MalformedFrames_AreRefused_WithTheReason(byte[] frame, string reason)
    {
        Assert.False(CompactFrame.TryRead(frame, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
