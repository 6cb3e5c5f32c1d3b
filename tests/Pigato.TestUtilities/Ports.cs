using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Pigato.TestUtilities;

/// <summary>Ports for tests and benchmarks that must name an endpoint before binding it (commands, hosts, servers that are not ZeroMQ).</summary>
public static class Ports
{
    /// <summary>A tcp endpoint on 127.0.0.1 whose port was free a moment ago.</summary>
    public static string FreeEndpoint() => $"tcp://127.0.0.1:{FreePort()}";

    /// <summary>A port on 127.0.0.1 that was free a moment ago (for servers that are not ZeroMQ: redis-server, nats-server).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until something accepts TCP connections on 127.0.0.1:<paramref name="port"/>; fails after <paramref name="bound"/>.</summary>
    public static async Task WaitUntilAcceptsAsync(int port, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        while (!Accepts(port))
        {
            if (clock.Elapsed > bound)
            {
                throw new TimeoutException($"Nothing accepts connections on 127.0.0.1:{port} after {bound.TotalSeconds:0} s.");
            }

            await Task.Delay(20);
        }
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var tcp = new TcpClient();
            tcp.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
