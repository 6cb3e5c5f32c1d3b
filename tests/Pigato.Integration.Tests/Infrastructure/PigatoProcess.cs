using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Pigato.Integration.Tests.Infrastructure;

/// <summary>A <c>pigato</c> command in a process of its own, so that a test can kill it (-9, by its pid) like a crash.</summary>
internal sealed class PigatoProcess : IDisposable
{
    private readonly Process _process;

    private PigatoProcess(Process process, string endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    /// <summary>The broker endpoint it binds or connects to.</summary>
    public string Endpoint { get; }

    /// <summary>What it printed (standard output and error), line by line.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; } = new();

    /// <summary>What it printed with when it arrived (<see cref="Stopwatch"/> timestamps), for timing what a peer noticed.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(long At, string Line)> Timeline { get; } = new();

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
            await Bounded.UntilAsync(() => child.Output.Any(line => line.Contains(ready, StringComparison.Ordinal)) || child._process.HasExited, $"pigato {args[0]} of {endpoint} to be ready");
            if (child._process.HasExited)
            {
                throw new InvalidOperationException($"pigato {args[0]} exited with {child._process.ExitCode} before it was ready: {string.Join(Environment.NewLine, child.Output)}");
            }
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
        var start = new ProcessStartInfo(netns is null ? command[0] : "ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in netns is null ? command[1..] : ["netns", "exec", netns, .. command])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} could not be started.");
        var child = new PigatoProcess(process, endpoint);
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is { } line)
            {
                child.Timeline.Enqueue((Stopwatch.GetTimestamp(), line));
                child.Output.Enqueue(line);
            }
        };
        process.OutputDataReceived += onLine;
        process.ErrorDataReceived += onLine;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits (bounded) until the process has exited by itself and all its output has been read; its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"pigato did not exit within {bound.TotalSeconds:0} s: {string.Join(Environment.NewLine, Output.TakeLast(20))}");
        }

        return _process.ExitCode;
    }

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
    public void Freeze() => Signal(SigStop);

    /// <summary>SIGCONT, by pid: a frozen process goes on where it stopped.</summary>
    public void Thaw() => Signal(SigCont);

    private void Signal(int signal)
    {
        if (!_process.HasExited && Kill(_process.Id, signal) != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    private const int SigStop = 19;
    private const int SigCont = 18;

    /// <summary>SIGTERM, by pid (as systemd or Kubernetes stop a service); the exit code once it has exited.</summary>
    public async Task<int> TerminateAsync()
    {
        if (Kill(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        await _process.WaitForExitAsync(Bounded.Token());
        return _process.ExitCode;
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>SIGKILL, by pid: the process vanishes without a word, as in a crash.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
