using Pigato.Routing;

namespace Pigato.Internal;

/// <summary>
/// The framing the broker agreed with each peer (docs/PROTOCOL-V2.md): v2 with a .NET peer that announced it (a client's
/// hello, a worker's READY) unless the broker keeps to v1; v1 with everyone else (PIGATO peers never announce). Held
/// below the broker's rules: they never see it. Bounded by the peers the broker knows (each is forgotten with it).
/// </summary>
internal sealed class PeerFramings(Framing allowed)
{
    private readonly Dictionary<string, bool> _v2 = new(StringComparer.Ordinal);

    /// <summary>How many peers speak v2.</summary>
    public int Count => _v2.Count;

    /// <summary>Agrees on the framing with a peer that announced <paramref name="version"/> (0: nothing); true for v2.</summary>
    public bool Agree(ReadOnlySpan<byte> identity, int version)
    {
        var v2 = version >= 2 && allowed == Framing.Auto;
        if (v2)
        {
            _v2[PeerKey.Of(identity)] = true;
        }
        else
        {
            Forget(identity);
        }

        return v2;
    }

    /// <summary>True when the peer speaks v2.</summary>
    public bool IsV2(ReadOnlySpan<byte> identity) => _v2.Count > 0 && PeerKey.TryGet(_v2, identity, out _);

    /// <summary>The peer is gone: v1 until it announces v2 again.</summary>
    public void Forget(ReadOnlySpan<byte> identity)
    {
        if (_v2.Count > 0 && PeerKey.TryGet(_v2, identity, out _))
        {
            _v2.Remove(PeerKey.Of(identity));
        }
    }
}
