using System.Diagnostics;
using System.Net.Sockets;

namespace Pigato.Integration.Tests.Infrastructure;

/// <summary>A <c>redis-server</c> of the test's own on a free local port, without persistence; stopped by its pid.</summary>
internal sealed class RedisServer : IDisposable
{
    private readonly Process _process;
    private bool _killed;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The CLI's store option for a broker: <c>redis:127.0.0.1:PORT</c>.</summary>
    public string Store => $"redis:127.0.0.1:{Port}";

    /// <summary>The store for a broker in this process.</summary>
    public Persistence.RequestStoreFactory StoreFactory => Persistence.RedisRequestStore.At($"127.0.0.1:{Port}");

    /// <summary>Starts redis-server (installed by .ci/run from Debian) and waits until it accepts connections.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        var port = Ports.FreePort();
        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("redis-server could not be started.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed (.ci/run installs it: apt-get install -y redis-server).", e);
        }

        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, port);
        try
        {
            await Bounded.UntilAsync(() => Accepts(port), $"redis-server on port {port} to accept connections");
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    /// <summary>Kills the server by its pid (a test may do it mid-way: Redis goes down); again, nothing.</summary>
    public void Kill()
    {
        if (!_killed)
        {
            _killed = true;
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var tcp = new TcpClient();
            tcp.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
