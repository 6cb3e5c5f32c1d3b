namespace Pigato.Routing;

/// <summary>A client that has requests in the broker: what they hold, and when it was last heard from.</summary>
internal sealed class BrokerClient(string key, byte[] identity, long lastHeard) : IPeerEntry
{
    public string Key { get; } = key;

    /// <summary>Its identity frame, shared by its requests (never changed).</summary>
    public byte[] Identity { get; } = identity;

    /// <summary>The client id as text (listings).</summary>
    public string Id => PeerKey.Text(Key);

    /// <summary>Its requests in the broker (queued or in flight).</summary>
    public int Pending { get; set; }

    /// <summary>The bytes its requests hold.</summary>
    public long Bytes { get; set; }

    /// <summary>When it last sent anything (a request, a heartbeat), as a <see cref="TimeProvider"/> timestamp.</summary>
    public long LastHeard { get; set; } = lastHeard;
}
