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

    /// <summary>Starts a broker and waits until it listens; <paramref name="extra"/> are more <c>pigato broker</c> options.</summary>
    public static Task<PigatoProcess> StartBrokerAsync(string? endpoint = null, params string[] extra)
    {
        endpoint ??= Ports.FreeEndpoint();
        return StartAsync(endpoint, "listening on", ["broker", "--bind", endpoint, "--intch", Ports.FreeEndpoint(), "--no-directory", "--heartbeat", "500ms", .. extra]);
    }

    /// <summary>Starts an example worker of <paramref name="endpoint"/> and waits until it is connected.</summary>
    public static Task<PigatoProcess> StartWorkerAsync(string endpoint, string service, params string[] extra) =>
        StartAsync(endpoint, " offers ", ["worker", service, "--broker", endpoint, .. extra]);

    private static async Task<PigatoProcess> StartAsync(string endpoint, string ready, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "Pigato.Cli.dll"), .. args])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var child = new PigatoProcess(process, endpoint);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                child.Output.Enqueue(line);
                if (line.Contains(ready, StringComparison.Ordinal))
                {
                    started.TrySetResult();
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                child.Output.Enqueue(line);
            }
        };
        process.Exited += (_, _) => started.TrySetException(new InvalidOperationException($"pigato {args[0]} exited with {process.ExitCode} before it was ready: {string.Join(Environment.NewLine, child.Output)}"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await started.Task.WithinAsync($"pigato {args[0]} of {endpoint} to be ready");
        }
        catch
        {
            child.Dispose();
            throw;
        }

        return child;
    }

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
