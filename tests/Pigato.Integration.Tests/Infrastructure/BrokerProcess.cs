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

    public static async Task<BrokerProcess> StartAsync(string? endpoint = null)
    {
        endpoint ??= Ports.FreeEndpoint();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "Pigato.Cli.dll"), "broker", "--bind", endpoint, "--intch", Ports.FreeEndpoint(), "--no-directory", "--heartbeat", "500ms"])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("listening on", StringComparison.Ordinal) == true)
            {
                listening.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var broker = new BrokerProcess(process, endpoint);
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
