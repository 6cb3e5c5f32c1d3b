namespace Pigato.Interop.Tests;

/// <summary>
/// Runs the tests with the setting README recommends for every Pigato process: socket completions inline
/// on the epoll thread. Without it NetMQ's I/O completes on the thread pool, and a briefly starved pool
/// (parallel tests on two cores) stalls every socket of the process for up to a second.
/// </summary>
internal static class SocketCompletions
{
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void Inline() => Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}
