namespace Pigato.TestUtilities;

/// <summary>A <c>redis-server</c> of the test's own on a free local port, without persistence; stopped by its pid.</summary>
public sealed class RedisServer : IDisposable
{
    private readonly ChildProcess _process;

    private RedisServer(ChildProcess process, int port)
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
        ChildProcess process;
        try
        {
            process = ChildProcess.Start("redis-server", ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed (.ci/run installs it: apt-get install -y redis-server).", e);
        }

        var server = new RedisServer(process, port);
        try
        {
            await Ports.WaitUntilAcceptsAsync(port, Bounded.Timeout);
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    /// <summary>Kills the server by its pid (a test may do it mid-way: Redis goes down); again, nothing.</summary>
    public void Kill() => _process.Kill();

    public void Dispose() => _process.Dispose();
}
