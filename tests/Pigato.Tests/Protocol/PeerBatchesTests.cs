using System.Text;
using Pigato.Internal;
using Pigato.Protocol.Compact;

namespace Pigato.Tests.Protocol;

/// <summary>The broker's per-peer v2 batches: what waits for whom, when a batch is full, and the frame it becomes.</summary>
public class PeerBatchesTests
{
    private static readonly byte[] Alice = Encoding.ASCII.GetBytes("C-alice");
    private static readonly byte[] Bob = Encoding.ASCII.GetBytes("C-bob");

    private static CompactDraft Draft(string rid) => CompactCodec.ClientReply(final: true, Encoding.ASCII.GetBytes(rid), error: false, "\"x\""u8, "{}"u8);

    private static byte[] Reply(string rid) => Draft(rid).ToArray();

    /// <summary>The messages a batch's frame carries (one message is its own frame).</summary>
    private static List<byte[]> MessagesOf(CompactBatch batch)
    {
        var frame = batch.Frame(borrowed: false).ToArray();
        return CompactCodec.IsBatch(frame) ? BatchFrames.Messages(frame) : [frame];
    }

    [Fact]
    public void Messages_WaitPerPeer_OldestPeerFirst()
    {
        var batches = new PeerBatches();
        Assert.True(batches.IsEmpty);

        Assert.Null(batches.Add(Bob, Draft("b1")));
        Assert.Null(batches.Add(Alice, Draft("a1")));
        Assert.Null(batches.Add(Bob, Draft("b2")));

        var taken = new List<PeerBatch>();
        batches.TakeAll(taken);
        Assert.True(batches.IsEmpty);
        Assert.Equal([Bob, Alice], taken.Select(b => b.Identity));
        Assert.Equal([Reply("b1"), Reply("b2")], MessagesOf(taken[0]));
        Assert.Equal([Reply("a1")], MessagesOf(taken[1]));
    }

    [Fact]
    public void OneMessage_IsSentAsItself_SeveralAsOneBatchFrame()
    {
        var batches = new PeerBatches();
        batches.Add(Alice, Draft("a1"));
        batches.Add(Bob, Draft("b1"));
        batches.Add(Bob, Draft("b2"));
        var taken = new List<PeerBatch>();
        batches.TakeAll(taken);

        Assert.Equal(Reply("a1"), taken[0].Frame(borrowed: false).ToArray());
        Assert.Equal([Reply("b1"), Reply("b2")], BatchFrames.Messages(taken[1].Frame(borrowed: false).ToArray()));
    }

    [Fact]
    public void FullByCount_IsHandedBackAtOnce_AndThePeerStartsAfresh()
    {
        var batches = new PeerBatches();
        PeerBatch? full = null;
        for (var i = 0; i < CompactCodec.MaxBatchMessages && full is null; i++)
        {
            full = batches.Add(Alice, Draft($"a{i}"));
        }

        Assert.NotNull(full);
        Assert.Equal(CompactCodec.MaxBatchMessages, full.Count);
        Assert.True(batches.IsEmpty);
        Assert.Null(batches.Add(Alice, Draft("next")));
        Assert.True(batches.TryTake(Alice, out var fresh));
        Assert.Equal([Reply("next")], MessagesOf(fresh));
    }

    [Fact]
    public void FullByBytes_IsHandedBackAtOnce()
    {
        var batches = new PeerBatches();
        var big = CompactCodec.ClientReply(final: false, "r"u8, error: false, new byte[CompactCodec.MaxBatchBytes / 2], "{}"u8);

        Assert.Null(batches.Add(Alice, big));
        var full = batches.Add(Alice, big);

        Assert.NotNull(full);
        Assert.Equal(2, full.Count);
        Assert.True(batches.IsEmpty);
    }

    [Fact]
    public void TryTake_TakesOnlyThatPeer()
    {
        var batches = new PeerBatches();
        batches.Add(Alice, Draft("a1"));
        batches.Add(Bob, Draft("b1"));

        Assert.True(batches.TryTake(Alice, out var alice));
        Assert.Equal([Reply("a1")], MessagesOf(alice));
        Assert.False(batches.TryTake(Alice, out _));
        Assert.False(batches.IsEmpty);
        var rest = new List<PeerBatch>();
        batches.TakeAll(rest);
        Assert.Equal([Bob], rest.Select(b => b.Identity));
    }

    [Fact]
    public void ReturnedBatch_IsEmptyWhenReused()
    {
        var batches = new PeerBatches();
        batches.Add(Alice, Draft("a1"));
        Assert.True(batches.TryTake(Alice, out var used));
        batches.Return(used);

        batches.Add(Bob, Draft("b1"));
        Assert.True(batches.TryTake(Bob, out var reused));

        Assert.Same(used, reused);
        Assert.Equal(Bob, reused.Identity);
        Assert.Equal([Reply("b1")], MessagesOf(reused));
        Assert.Equal(Reply("b1").Length, reused.Bytes);
    }
}
