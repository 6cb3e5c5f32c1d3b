using System.Net;
using System.Net.Sockets;

namespace Pigato.Integration.Tests.Infrastructure;

/// <summary>Ports for tests that must name an endpoint before binding it (commands, hosts).</summary>
internal static class Ports
{
    /// <summary>A tcp endpoint on 127.0.0.1 whose port was free a moment ago.</summary>
    public static string FreeEndpoint() => $"tcp://127.0.0.1:{FreePort()}";

    /// <summary>A port on 127.0.0.1 that was free a moment ago (for servers that are not ZeroMQ: redis-server).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
