using System.Globalization;
using Pigato.TestUtilities;

namespace Pigato.Stress;

/// <summary>`pigato broker` as a separate process (this program's broker role), its memory read from /proc, killed by its pid.</summary>
internal sealed class BrokerProcess : IDisposable
{
    private readonly ChildProcess _process;

    private BrokerProcess(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"tcp://127.0.0.1:{Port}";

    public int Pid => _process.Pid;

    public bool IsAlive => !_process.HasExited;

    /// <summary>Starts the broker (<paramref name="options"/>: more <c>pigato broker</c> options) and waits until it listens.</summary>
    public static async Task<BrokerProcess> StartAsync(CancellationToken cancellationToken, params string[] options)
    {
        var port = Ports.FreePort();
        var intch = Ports.FreePort();
        var process = ChildProcess.Start(
            "dotnet",
            ["exec", typeof(BrokerProcess).Assembly.Location, "role", "broker", $"tcp://127.0.0.1:{port}", $"tcp://127.0.0.1:{intch}", .. options],
            onLine: line =>
            {
                // What goes wrong in the broker is shown as it happens.
                if (line is not null && (line.Contains(" warn: ", StringComparison.Ordinal) || line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains("left service", StringComparison.Ordinal) || line.Contains("xception", StringComparison.Ordinal)))
                {
                    Console.Error.WriteLine("broker: " + line);
                }
            });
        try
        {
            await process.WaitForLineAsync("listening on", TimeSpan.FromSeconds(30), "the broker").WaitAsync(cancellationToken);
        }
        catch
        {
            process.Dispose();
            throw;
        }

        return new BrokerProcess(process, port);
    }

    /// <summary>The broker's resident memory in MB (VmRSS).</summary>
    public double RssMegabytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return 0;
    }

    public void Dispose() => _process.Dispose();
}
