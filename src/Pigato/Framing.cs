namespace Pigato;

/// <summary>
/// How a .NET peer frames its messages with a broker. PIGATO's own frames (the v1 framing, PROTOCOL.md) always work;
/// between .NET peers the v2 framing (one frame per message, sent in batches: docs/PROTOCOL-V2.md) is agreed per
/// connection. A Node.js PIGATO peer never sees anything but v1: the broker translates.
/// </summary>
/// <remarks>
/// There is no value that forces v2: it is an upgrade both ends agree on in their greeting, so with <see cref="Auto"/>
/// on both sides two Pigato for .NET peers always use it, and a peer that cannot (PIGATO, or a .NET peer set to
/// <see cref="V1"/>) still gets served instead of refused.
/// </remarks>
public enum Framing
{
    /// <summary>Announce the v2 framing and use it once the broker agrees; v1 otherwise (the default).</summary>
    Auto,

    /// <summary>The v1 framing only: never announce v2 (a broker with this setting never agrees to it).</summary>
    V1,
}
