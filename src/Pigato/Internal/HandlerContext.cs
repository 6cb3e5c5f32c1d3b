namespace Pigato.Internal;

/// <summary>
/// The request whose handler runs on this async flow, when that request carries a deadline: a <see cref="Client"/>
/// called from the handler gives its own requests no more than what remains of it, and cancels them when it ends early
/// (cancelled by its caller, or past its deadline). Set only for such requests: the plain path costs nothing.
/// </summary>
internal static class HandlerContext
{
    private static readonly AsyncLocal<WorkerReply?> Request = new();

    /// <summary>The handler's request on this flow, or null (no handler, or a request without a deadline).</summary>
    public static WorkerReply? Current => Request.Value;

    /// <summary>Called by the handler's own async method: the value flows into what the handler awaits and ends with it.</summary>
    public static void Enter(WorkerReply reply) => Request.Value = reply;
}
