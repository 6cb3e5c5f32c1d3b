using System.Diagnostics;

namespace Pigato.TestUtilities;

/// <summary>A <c>pigato</c> command in a process of its own, so that a test can kill it (-9, by its pid) like a crash.</summary>
public sealed class PigatoProcess : IDisposable
{
    private readonly ChildProcess _process;

    private PigatoProcess(ChildProcess process, string endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    /// <summary>The broker endpoint it binds or connects to.</summary>
    public string Endpoint { get; }

    /// <summary>What it printed (standard output and error), line by line.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output => _process.Output;

    /// <summary>What it printed with when it arrived (<see cref="Stopwatch"/> timestamps), for timing what a peer noticed.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(long At, string Line)> Timeline => _process.Timeline;

    /// <summary>Starts a broker and waits until it listens; <paramref name="extra"/> are more <c>pigato broker</c> options.</summary>
    public static Task<PigatoProcess> StartBrokerAsync(string? endpoint = null, params string[] extra)
    {
        endpoint ??= Ports.FreeEndpoint();
        return StartAsync(endpoint, "listening on", ["broker", "--bind", endpoint, "--intch", Ports.FreeEndpoint(), "--no-directory", "--heartbeat", "500ms", .. extra]);
    }

    /// <summary>Starts an example worker of <paramref name="endpoint"/> and waits until it is connected.</summary>
    public static Task<PigatoProcess> StartWorkerAsync(string endpoint, string service, params string[] extra) =>
        StartAsync(endpoint, " offers ", ["worker", service, "--broker", endpoint, .. extra]);

    /// <summary>Starts <c>pigato</c> with <paramref name="args"/> (inside network namespace <paramref name="netns"/> when given) and waits for a line containing <paramref name="ready"/>.</summary>
    public static async Task<PigatoProcess> StartAsync(string endpoint, string ready, IReadOnlyList<string> args, string? netns = null)
    {
        var child = Launch(endpoint, args, netns);
        try
        {
            await child._process.WaitForLineAsync(ready, Bounded.Timeout, $"pigato {args[0]} of {endpoint}");
        }
        catch
        {
            child.Dispose();
            throw;
        }

        return child;
    }

    /// <summary>Starts <c>pigato</c> with <paramref name="args"/> (inside network namespace <paramref name="netns"/> when given) without waiting for anything.</summary>
    public static PigatoProcess Launch(string endpoint, IReadOnlyList<string> args, string? netns = null)
    {
        // `ip netns exec` enters the namespace and then becomes the command: the pid is the command's own.
        string[] command = ["dotnet", "exec", Path.Combine(AppContext.BaseDirectory, "Pigato.Cli.dll"), .. args];
        var environment = new Dictionary<string, string> { ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1" };
        var process = netns is null
            ? ChildProcess.Start(command[0], command[1..], environment: environment)
            : ChildProcess.Start("ip", ["netns", "exec", netns, .. command], environment: environment);
        return new PigatoProcess(process, endpoint);
    }

    /// <summary>Waits (bounded) until the process has exited by itself and all its output has been read; its exit code.</summary>
    public Task<int> WaitForExitAsync(TimeSpan bound) => _process.WaitForExitAsync(bound);

    /// <summary>
    /// Waits (bounded) for the first line printed after <paramref name="after"/> (a <see cref="Stopwatch"/> timestamp) that
    /// contains <paramref name="contains"/> and, when given, one of <paramref name="anyOf"/>; returns when it arrived.
    /// </summary>
    public async Task<long> FirstLineAfterAsync(long after, string contains, params string[] anyOf)
    {
        long at = 0;
        await Bounded.UntilAsync(
            () =>
            {
                foreach (var (time, line) in Timeline)
                {
                    if (time > after && line.Contains(contains, StringComparison.Ordinal) && (anyOf.Length == 0 || anyOf.Any(a => line.Contains(a, StringComparison.Ordinal))))
                    {
                        at = time;
                        return true;
                    }
                }

                return false;
            },
            $"a line with '{contains}' {string.Join(" or ", anyOf)}");
        return at;
    }

    /// <summary>SIGSTOP, by pid: the process freezes as a hung VM does, its sockets open and silent.</summary>
    public void Freeze() => _process.Freeze();

    /// <summary>SIGCONT, by pid: a frozen process goes on where it stopped.</summary>
    public void Thaw() => _process.Thaw();

    /// <summary>SIGTERM, by pid (as systemd or Kubernetes stop a service); the exit code once it has exited.</summary>
    public Task<int> TerminateAsync() => _process.TerminateAsync(Bounded.Timeout);

    /// <summary>SIGKILL, by pid: the process vanishes without a word, as in a crash.</summary>
    public void Kill() => _process.Kill();

    public void Dispose() => _process.Dispose();
}
