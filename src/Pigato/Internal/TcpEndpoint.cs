using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Pigato.Internal;

/// <summary>The <c>HOST:PORT</c> part of endpoints, read and written in one place (broker names, Pigato's own ZMTP transport).</summary>
internal static class TcpEndpoint
{
    private const string Scheme = "tcp://";

    /// <summary>
    /// Splits <c>HOST:PORT</c> at its last colon (an IPv6 host may be bracketed); false when there is no host or the port
    /// is not a number from <paramref name="minPort"/> (0 for an endpoint to bind: the system picks) to 65535.
    /// </summary>
    public static bool TrySplit(string hostAndPort, int minPort, out string host, out int port)
    {
        var colon = hostAndPort.LastIndexOf(':');
        host = (colon > 0 ? hostAndPort[..colon] : hostAndPort).TrimStart('[').TrimEnd(']');
        port = 0;
        return colon > 0 && host.Length > 0
            && int.TryParse(hostAndPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port)
            && port >= minPort && port <= 65535;
    }

    /// <summary>
    /// The host and port of a plain <c>tcp://HOST:PORT</c> endpoint; false for other schemes and for NetMQ's extensions
    /// (<c>tcp://INTERFACE;HOST:PORT</c>). <c>*</c> (every interface) is a host only when <paramref name="binding"/>.
    /// </summary>
    public static bool TryParse(string endpoint, bool binding, out string host, out int port)
    {
        host = "";
        port = 0;
        return endpoint.StartsWith(Scheme, StringComparison.Ordinal)
            && !endpoint.Contains(';', StringComparison.Ordinal)
            && TrySplit(endpoint[Scheme.Length..], binding ? 0 : 1, out host, out port)
            && (binding || host != "*");
    }

    /// <summary><c>tcp://ADDRESS:PORT</c>, an IPv6 address in brackets.</summary>
    public static string Format(IPAddress address, int port) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"{Scheme}[{address}]:{port}" : $"{Scheme}{address}:{port}";
}
