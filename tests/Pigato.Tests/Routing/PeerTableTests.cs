using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>
/// <see cref="PeerTable{T}"/>: a look-up by identity answers from the entry found last only while the table holds it, and
/// never for another identity.
/// </summary>
public class PeerTableTests
{
    [Fact]
    public void LookUps_FindWhatTheTableHolds_AndNothingItRemoved()
    {
        var a = new Peer("a"u8.ToArray());
        var b = new Peer("b"u8.ToArray());
        var table = new PeerTable<Peer>();
        table.Add(PeerKey.Of(a.Identity), a);
        table.Add(PeerKey.Of(b.Identity), b);

        Assert.True(table.TryGet("a"u8, out var found));
        Assert.Same(a, found);
        Assert.True(table.TryGet("a"u8, out found));
        Assert.Same(a, found);
        Assert.True(table.TryGet("b"u8, out found));
        Assert.Same(b, found);
        Assert.False(table.TryGet("c"u8, out _));
        Assert.False(table.TryGet("bb"u8, out _));

        Assert.True(table.Remove(PeerKey.Of(a.Identity)));
        Assert.True(table.TryGet("b"u8, out _), "removing another entry keeps the last one");
        Assert.True(table.Remove(PeerKey.Of(b.Identity)));
        Assert.False(table.TryGet("b"u8, out _));
        Assert.False(table.Remove(PeerKey.Of(b.Identity)));

        var again = new Peer("b"u8.ToArray());
        table.Add(PeerKey.Of(again.Identity), again);
        Assert.True(table.TryGet("b"u8, out found));
        Assert.Same(again, found);

        table.Clear();
        Assert.False(table.TryGet("b"u8, out _));
        Assert.Equal(0, table.Count);
    }

    private sealed class Peer(byte[] identity) : IPeerEntry
    {
        public byte[] Identity { get; } = identity;
    }
}
