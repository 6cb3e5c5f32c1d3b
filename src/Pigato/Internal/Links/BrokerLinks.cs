using Microsoft.Extensions.Logging;

namespace Pigato.Internal.Links;

/// <summary>Chooses what carries a connection to a broker (<see cref="ConnectionTransport"/>).</summary>
internal static class BrokerLinks
{
    /// <summary>
    /// Pigato's own ZMTP (plain or CURVE) for a <c>tcp://HOST:PORT</c> broker unless NetMQ was asked for; NetMQ for every
    /// other endpoint.
    /// </summary>
    public static IBrokerLink Open(string endpoint, string identity, ConnectionSettings settings, ActorLoop loop, LinkEvents events, ILogger logger) =>
        settings.Transport == ConnectionTransport.Auto && TcpEndpoint.TryParse(endpoint, binding: false, out var host, out var port)
            ? new ZmtpLink(endpoint, host, port, identity, settings, loop, events, logger)
            : new NetMqLink(endpoint, identity, settings, loop, events);

    /// <summary>
    /// True when some broker of <paramref name="settings"/> is reached through NetMQ, so that the actor's loop must poll
    /// NetMQ sockets: NetMQ asked for, or an endpoint other than <c>tcp://HOST:PORT</c> and the DNS names that resolve to those.
    /// </summary>
    public static bool NeedNetMq(ConnectionSettings settings) =>
        settings.Transport != ConnectionTransport.Auto
        || settings.Brokers.Any(endpoint => !BrokerDiscovery.IsName(endpoint) && !TcpEndpoint.TryParse(endpoint, binding: false, out _, out _));
}
