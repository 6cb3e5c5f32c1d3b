namespace Pigato.Routing;

/// <summary>An entry of a table keyed by a peer's identity (<see cref="PeerKey"/>), which knows that identity.</summary>
internal interface IPeerEntry
{
    /// <summary>The identity frame, its own copy (not changed while the entry is in its table).</summary>
    byte[] Identity { get; }
}
