namespace Pigato;

/// <summary>
/// What carries a client's or worker's connection to a broker. Both speak ZMTP 3, so either works with any broker
/// (Pigato's, PIGATO's for Node.js, anything on ZeroMQ).
/// </summary>
public enum ConnectionTransport
{
    /// <summary>
    /// Pigato's own ZMTP (plain or CURVE, on libsodium) on a plain TCP socket that the client's or worker's thread reads
    /// and writes itself, for <c>tcp://</c> brokers; NetMQ for other schemes (<c>inproc://</c>, <c>ipc://</c>). The
    /// default: a request makes fewer thread hand-offs, and CURVE costs a fraction of NetMQ's (docs/performance.md).
    /// </summary>
    Auto,

    /// <summary>NetMQ's DEALER for every broker: its I/O thread between the client's or worker's thread and the kernel.</summary>
    NetMQ,
}
