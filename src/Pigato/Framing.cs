namespace Pigato;

/// <summary>
/// How a .NET peer frames its messages with a broker. PIGATO's own frames ("v1", PROTOCOL.md) always work; between .NET
/// peers a compact one-frame encoding ("v2", docs/PROTOCOL-V2.md) is negotiated per connection. A Node.js PIGATO peer
/// never sees anything but v1: the broker translates.
/// </summary>
public enum Framing
{
    /// <summary>Announce v2 and use it once the broker agrees; v1 otherwise (the default).</summary>
    Auto,

    /// <summary>PIGATO's frames only: never announce v2 (a broker with this setting never agrees to it).</summary>
    V1,
}
