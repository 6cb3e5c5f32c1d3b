using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>
/// <see cref="LastPeer{T}"/>: a look-up by identity answers from the entry found last only while its table holds it, and
/// never for another identity.
/// </summary>
public class LastPeerTests
{
    [Fact]
    public void LookUps_FindWhatTheTableHolds_AndNothingItRemoved()
    {
        var a = new Peer("a"u8.ToArray());
        var b = new Peer("b"u8.ToArray());
        var table = new Dictionary<string, Peer>(StringComparer.Ordinal) { [PeerKey.Of(a.Identity)] = a, [PeerKey.Of(b.Identity)] = b };
        var last = default(LastPeer<Peer>);

        Assert.True(last.TryGet(table, "a"u8, out var found));
        Assert.Same(a, found);
        Assert.True(last.TryGet(table, "a"u8, out found));
        Assert.Same(a, found);
        Assert.True(last.TryGet(table, "b"u8, out found));
        Assert.Same(b, found);
        Assert.False(last.TryGet(table, "c"u8, out _));
        Assert.False(last.TryGet(table, "bb"u8, out _));

        table.Remove(PeerKey.Of(b.Identity));
        last.Forget(a); // not the one remembered: nothing changes
        Assert.True(last.TryGet(table, "b"u8, out _), "b is still remembered until its table forgets it");
        last.Forget(b);
        Assert.False(last.TryGet(table, "b"u8, out _));

        var again = new Peer("b"u8.ToArray());
        table[PeerKey.Of(again.Identity)] = again;
        last.Remember(again);
        Assert.True(last.TryGet(table, "b"u8, out found));
        Assert.Same(again, found);

        table.Clear();
        last.Clear();
        Assert.False(last.TryGet(table, "b"u8, out _));
    }

    private sealed class Peer(byte[] identity) : IPeerEntry
    {
        public byte[] Identity { get; } = identity;
    }
}
