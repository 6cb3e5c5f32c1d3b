using System.Runtime.Loader;

namespace Pigato.Perf.Runner;

/// <summary>
/// Benchmark-only: gives NetMQ the Mono.Posix it looks for (bench/NetMQ.RdtscShim), so that it finds the processor's
/// time-stamp counter and checks its command mailbox at most every 3 million ticks when sending, instead of with a
/// poll() system call on every frame. Measures the wall of NetMQ as shipped; never part of the library.
/// </summary>
internal static class RdtscShim
{
    /// <summary>Where the build puts the shim, beside this program (not among its references, so it is off unless enabled).</summary>
    public static string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(typeof(RdtscShim).Assembly.Location)!, "rdtsc-shim", "Mono.Posix.dll");

    /// <summary>Why the shim cannot be used here, or null.</summary>
    public static string? Unavailable =>
        !File.Exists(Path) ? $"the shim is not built ({Path})"
        : !OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64 ? "the shim is for Linux on x64"
        : null;

    /// <summary>Resolves Mono.Posix to the shim; call before the first NetMQ socket (NetMQ probes once). Fails if NetMQ still finds no counter.</summary>
    public static void Enable()
    {
        AssemblyLoadContext.Default.Resolving += (context, name) => name.Name == "Mono.Posix" ? context.LoadFromAssemblyPath(Path) : null;
        var clock = typeof(NetMQ.NetMQSocket).Assembly.GetType("NetMQ.Core.Utils.Clock", throwOnError: true)!;
        if ((long)clock.GetMethod("Rdtsc")!.Invoke(null, null)! == 0)
        {
            throw new InvalidOperationException("NetMQ found no time-stamp counter even with the shim: this NetMQ version probes differently.");
        }
    }
}
