namespace Pigato.Tests;

/// <summary>Options that contradict each other are refused at construction, naming what to change, never silently half-used.</summary>
public class OptionsValidationTests
{
    [Fact]
    public void ClientAndWorker_WithEndpointAndEndpoints_AreRefused_NamingBoth()
    {
        var client = Assert.Throws<ArgumentException>(() => new Client(new ClientOptions { Endpoint = "tcp://a:1", Endpoints = ["tcp://b:1", "tcp://c:1"] }));
        var worker = Assert.Throws<ArgumentException>(() => new Worker(new WorkerOptions { Endpoint = "tcp://a:1", Endpoints = ["tcp://b:1"], Service = "s" }, (_, r, _) => r.EndAsync()));

        Assert.All([client, worker], e => Assert.Contains("not both", e.Message, StringComparison.Ordinal));
        Assert.Equal("Endpoint", client.ParamName);
    }

    [Fact]
    public void ClientAndWorker_WithNeither_ConnectToTheDefaultEndpoint()
    {
        Assert.Equal([ClientOptions.DefaultEndpoint], new ClientOptions().Brokers);
        Assert.Equal(["tcp://b:1"], new WorkerOptions { Endpoints = ["tcp://b:1"] }.Brokers);
    }

    [Theory]
    [InlineData("dns://brokers.example", "dns://NAME:PORT")]
    [InlineData("dns://brokers.example:0", "dns://NAME:PORT")]
    [InlineData("dns+srv://", "names no SRV record")]
    public void BrokerNames_WithoutWhereToConnect_AreRefused(string endpoint, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => new Client(new ClientOptions { Endpoint = endpoint }));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADnsServer_IsAnAddress_AndTheRefreshAtLeast100Ms()
    {
        Assert.Throws<ArgumentException>(() => new Worker(new WorkerOptions { Service = "s", DnsServer = "dns.example" }, (_, r, _) => r.EndAsync()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Client(new ClientOptions { DnsRefreshInterval = TimeSpan.FromMilliseconds(10) }));
        Assert.Equal("127.0.0.1:5353", new ClientOptions { DnsServer = "127.0.0.1:5353", Endpoint = "dns+srv://_pigato._tcp.example" }.DnsServer);
        _ = new Client(new ClientOptions { DnsServer = "127.0.0.1:5353", Endpoint = "dns+srv://_pigato._tcp.example" });
    }

    [Fact]
    public void Broker_WithPermissionsAndAPermissionsFile_IsRefused()
    {
        var permissions = Security.Permissions.Parse("""{ "principals": { "anonymous": { "request": ["*"], "serve": ["*"] } } }""");

        var error = Assert.Throws<ArgumentException>(() => new Broker(new BrokerOptions { Permissions = permissions, PermissionsFile = "/etc/pigato/permissions.json", AllowInsecureAuthenticationWithoutEncryption = true }));

        Assert.Contains("not both", error.Message, StringComparison.Ordinal);
        Assert.Contains("/etc/pigato/permissions.json", error.Message, StringComparison.Ordinal);
    }
}
