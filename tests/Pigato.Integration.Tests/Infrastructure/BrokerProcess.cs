using System.Diagnostics;

namespace Pigato.Integration.Tests.Infrastructure;

/// <summary>`pigato broker` in a process of its own, so that a test can kill it (-9, by its pid) like a crash.</summary>
internal sealed class BrokerProcess : IDisposable
{
    private readonly Process _process;

    private BrokerProcess(Process process, string endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    /// <summary>What the broker printed (standard output and error), line by line.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; } = new();

    /// <summary>Starts a broker and waits until it listens; <paramref name="extra"/> are more <c>pigato broker</c> options.</summary>
    public static async Task<BrokerProcess> StartAsync(string? endpoint = null, params string[] extra)
    {
        endpoint ??= Ports.FreeEndpoint();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "Pigato.Cli.dll"), "broker", "--bind", endpoint, "--intch", Ports.FreeEndpoint(), "--no-directory", "--heartbeat", "500ms", .. extra])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var broker = new BrokerProcess(process, endpoint);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                broker.Output.Enqueue(line);
                if (line.Contains("listening on", StringComparison.Ordinal))
                {
                    listening.TrySetResult();
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                broker.Output.Enqueue(line);
            }
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"The broker exited with {process.ExitCode} before listening: {string.Join(Environment.NewLine, broker.Output)}"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await listening.Task.WithinAsync($"the broker at {endpoint} to listen");
        }
        catch
        {
            broker.Dispose();
            throw;
        }

        return broker;
    }

    /// <summary>SIGKILL, by pid: the broker vanishes without a word, as in a crash.</summary>
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
