namespace Pigato.Internal;

/// <summary>What a worker sends for a request.</summary>
internal enum ReplyKind
{
    Partial,
    Final,
    Error,
    Reject,
}
