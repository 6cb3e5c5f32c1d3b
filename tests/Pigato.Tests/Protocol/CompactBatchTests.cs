using CsCheck;
using Pigato.Protocol.Compact;

namespace Pigato.Tests.Protocol;

/// <summary>A v2 batch: messages written into its pooled buffer read back from its frame, in order; one message is its own frame.</summary>
public class CompactBatchTests
{
    private static readonly Gen<byte[]> Field = Gen.Frequency((4, Gen.Byte.Array[0, 30]), (1, Gen.Byte.Array[128, 400]));

    [Fact]
    public void ABatch_ReadsBackMessageByMessage_AcrossItsBufferGrowing()
    {
        // Up to 40 messages of up to ~1.2 KB: well past the first buffer rented (4 KiB).
        Gen.Select(Field, Field, Field).Array[2, 40].Sample(fields =>
        {
            var batch = new CompactBatch();
            var expected = new List<byte[]>();
            foreach (var (rid, data, options) in fields)
            {
                expected.Add(CompactCodec.ClientReply(final: true, rid, error: false, data, options).ToArray());
                Assert.False(batch.Add(CompactCodec.ClientReply(final: true, rid, error: false, data, options)));
            }

            Assert.Equal(expected, BatchFrames.Messages(batch.Frame(borrowed: false).ToArray()));
            Assert.Equal(expected.Count, batch.Count);
            Assert.Equal(expected.Sum(m => m.Length), batch.Bytes);
            batch.Clear();
        });
    }

    [Fact]
    public void OneMessage_IsItsOwnFrame_AndAClearedBatchStartsAfresh()
    {
        var batch = new CompactBatch();
        batch.Add(CompactCodec.ClientRequest("echo"u8, "r1"u8, "1"u8, default));
        batch.Add(CompactCodec.ClientRequest("echo"u8, "r2"u8, "2"u8, default));
        batch.Clear();
        Assert.Equal(0, batch.Count);
        Assert.Empty(batch.Frame(borrowed: false).ToArray());

        batch.Add(CompactCodec.ClientRequest("echo"u8, "r3"u8, "3"u8, "{}"u8));

        Assert.Equal(CompactCodec.ClientRequest("echo"u8, "r3"u8, "3"u8, "{}"u8).ToArray(), batch.Frame(borrowed: false).ToArray());
        batch.Clear();
    }

    [Fact]
    public void ABorrowedFrame_LiesInTheBatchBuffer_AnOwnedOneIsACopyThatOutlivesIt()
    {
        var batch = new CompactBatch();
        batch.Add(CompactCodec.ClientRequest("echo"u8, "r1"u8, "1"u8, default));
        batch.Add(CompactCodec.ClientRequest("echo"u8, "r2"u8, "2"u8, default));

        var borrowed = batch.Frame(borrowed: true);
        var owned = batch.Frame(borrowed: false);

        Assert.Equal(owned.ToArray(), borrowed.ToArray());
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(borrowed, out var buffer));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(owned, out var own));
        Assert.NotSame(buffer.Array, own.Array);
        Assert.Equal(owned.Length, own.Array!.Length);
        var kept = owned.ToArray();
        batch.Clear();
        Assert.Equal(kept, owned.ToArray());
    }
}
