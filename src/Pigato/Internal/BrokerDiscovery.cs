using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace Pigato.Internal;

/// <summary>
/// Turns the broker endpoints a client or worker was given into the brokers to connect to now: <c>tcp://</c> and the
/// like as they are; <c>dns://NAME:PORT</c> to <c>tcp://ADDRESS:PORT</c> for every A and AAAA record of the name;
/// <c>dns+srv://NAME</c> to <c>tcp://ADDRESS:PORT</c> for every SRV record's target and port (a headless service on
/// Kubernetes publishes both). Queries go to the system's DNS servers, or to <paramref name="nameServer"/>.
/// </summary>
internal sealed class BrokerDiscovery(IReadOnlyList<string> configured, string? nameServer)
{
    private const string ByAddress = "dns://";
    private const string ByService = "dns+srv://";

    private readonly LookupClient _dns = Client(nameServer);

    /// <summary>True when some endpoint is a name to look up (again and again): the brokers may change while running.</summary>
    public static bool Resolves(IEnumerable<string> endpoints) => endpoints.Any(IsName);

    /// <summary>The endpoints to connect to now, in a stable order; a name whose lookup fails or finds nothing throws.</summary>
    /// <exception cref="PigatoException"><see cref="PigatoErrorCodes.NoBroker"/> with the name and the reason.</exception>
    public async Task<IReadOnlyList<string>> ResolveAsync(CancellationToken cancellationToken)
    {
        var endpoints = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in configured)
        {
            if (!IsName(endpoint))
            {
                endpoints.Add(endpoint);
                continue;
            }

            var found = endpoint.StartsWith(ByService, StringComparison.OrdinalIgnoreCase)
                ? await ByServiceAsync(endpoint[ByService.Length..], cancellationToken).ConfigureAwait(false)
                : await ByAddressAsync(endpoint[ByAddress.Length..], cancellationToken).ConfigureAwait(false);
            if (found.Count == 0)
            {
                throw new PigatoException(PigatoErrorCodes.NoBroker, $"The broker name in '{endpoint}' has no records.");
            }

            endpoints.UnionWith(found);
        }

        return [.. endpoints];
    }

    /// <summary>Checks the form of a name endpoint (a broker that is a name must say where: a port, or SRV).</summary>
    public static void Validate(string endpoint, string option)
    {
        if (endpoint.StartsWith(ByAddress, StringComparison.OrdinalIgnoreCase) && !TcpEndpoint.TrySplit(endpoint[ByAddress.Length..], minPort: 1, out _, out _))
        {
            throw new ArgumentException($"'{endpoint}' is not dns://NAME:PORT.", option);
        }

        if (endpoint.StartsWith(ByService, StringComparison.OrdinalIgnoreCase) && endpoint.Length == ByService.Length)
        {
            throw new ArgumentException($"'{endpoint}' names no SRV record: dns+srv://_pigato._tcp.example.org.", option);
        }
    }

    /// <summary>Checks a name server option: an IP address, with <c>:PORT</c> when not 53.</summary>
    public static void ValidateNameServer(string? nameServer, string option)
    {
        if (nameServer is not null && !IPEndPoint.TryParse(nameServer, out _))
        {
            throw new ArgumentException($"'{nameServer}' is not a DNS server address (IP or IP:PORT).", option);
        }
    }

    /// <summary>True for an endpoint that names brokers to look up (<c>dns://</c>, <c>dns+srv://</c>), which become <c>tcp://</c> endpoints.</summary>
    public static bool IsName(string endpoint) =>
        endpoint.StartsWith(ByAddress, StringComparison.OrdinalIgnoreCase) || endpoint.StartsWith(ByService, StringComparison.OrdinalIgnoreCase);

    private async Task<List<string>> ByAddressAsync(string nameAndPort, CancellationToken cancellationToken)
    {
        TcpEndpoint.TrySplit(nameAndPort, minPort: 1, out var name, out var port);
        return [.. (await AddressesAsync(name, cancellationToken).ConfigureAwait(false)).Select(address => TcpEndpoint.Format(address, port))];
    }

    private async Task<List<string>> ByServiceAsync(string service, CancellationToken cancellationToken)
    {
        var answer = await Query(service, QueryType.SRV, cancellationToken).ConfigureAwait(false);
        var endpoints = new List<string>();
        foreach (var record in answer.Answers.SrvRecords())
        {
            var target = record.Target.Value.TrimEnd('.');
            var glue = answer.Additionals.OfType<AddressRecord>().Where(a => a.DomainName.Value.TrimEnd('.').Equals(target, StringComparison.OrdinalIgnoreCase)).Select(a => a.Address).ToList();
            var addresses = glue.Count > 0 ? glue : await AddressesAsync(target, cancellationToken).ConfigureAwait(false);
            endpoints.AddRange(addresses.Select(address => TcpEndpoint.Format(address, record.Port)));
        }

        return endpoints;
    }

    private async Task<List<IPAddress>> AddressesAsync(string name, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(name, out var literal))
        {
            return [literal];
        }

        // A name may have addresses of one family only, and some servers refuse to answer for the other: a failure counts
        // only when nothing was found.
        var addresses = new List<IPAddress>();
        PigatoException? failure = null;
        foreach (var type in (QueryType[])[QueryType.A, QueryType.AAAA])
        {
            try
            {
                var answer = await Query(name, type, cancellationToken).ConfigureAwait(false);
                addresses.AddRange(answer.Answers.OfType<AddressRecord>().Select(a => a.Address));
            }
            catch (PigatoException e)
            {
                failure ??= e;
            }
        }

        return addresses.Count == 0 && failure is not null ? throw failure : addresses;
    }

    private async Task<IDnsQueryResponse> Query(string name, QueryType type, CancellationToken cancellationToken)
    {
        try
        {
            var answer = await _dns.QueryAsync(name, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            return answer.HasError && answer.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain
                ? throw new PigatoException(PigatoErrorCodes.NoBroker, $"DNS lookup of {type} {name} failed: {answer.ErrorMessage}.")
                : answer;
        }
        catch (DnsResponseException e)
        {
            throw new PigatoException(PigatoErrorCodes.NoBroker, $"DNS lookup of {type} {name} failed: {e.Message}", e);
        }
    }

    private static LookupClient Client(string? nameServer)
    {
        var server = nameServer is null ? null : IPEndPoint.Parse(nameServer);
        var options = server is null ? new LookupClientOptions() : new LookupClientOptions(server.Port == 0 ? new IPEndPoint(server.Address, 53) : server);
        options.UseCache = false;
        options.Timeout = TimeSpan.FromSeconds(2);
        options.Retries = 1;
        options.ThrowDnsErrors = false;
        return new LookupClient(options);
    }
}
