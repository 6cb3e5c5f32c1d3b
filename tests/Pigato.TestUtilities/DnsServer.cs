using System.Globalization;

namespace Pigato.TestUtilities;

/// <summary>
/// A <c>dnsmasq</c> of the test's own on a free local port (installed by .ci/run from Debian), answering only the records
/// the test gives it; started again on the same port to change them, stopped by its pid.
/// </summary>
public sealed class DnsServer : IDisposable
{
    private readonly string _config = Path.Combine(Path.GetTempPath(), $"pigato-dnsmasq-{Guid.NewGuid():N}.conf");
    private ChildProcess? _process;

    private DnsServer(int port) => Port = port;

    public int Port { get; }

    /// <summary>The address clients and workers look names up on (their <c>DnsServer</c> option).</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>Starts dnsmasq answering <c>_pigato._tcp.NAME</c> with an SRV record per endpoint (all on 127.0.0.1).</summary>
    public static async Task<DnsServer> StartAsync(string name, IEnumerable<string> brokers)
    {
        var server = new DnsServer(Ports.FreePort());
        try
        {
            await server.ServeAsync(name, brokers);
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    /// <summary>Serves these brokers from now on (dnsmasq started again: lookups fail for a moment meanwhile).</summary>
    public async Task ServeAsync(string name, IEnumerable<string> brokers)
    {
        _process?.Dispose();
        var lines = new List<string> { $"host-record=broker.{name},127.0.0.1" };
        lines.AddRange(brokers.Select(endpoint => $"srv-host=_pigato._tcp.{name},broker.{name},{new Uri(endpoint).Port.ToString(CultureInfo.InvariantCulture)}"));
        await File.WriteAllLinesAsync(_config, lines);
        try
        {
            _process = ChildProcess.Start("dnsmasq", [
                "--no-daemon", $"--port={Port.ToString(CultureInfo.InvariantCulture)}", "--listen-address=127.0.0.1", "--bind-interfaces",
                "--no-resolv", "--no-hosts", "--user=root", "--pid-file=", $"--conf-file={_config}",
            ]);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("dnsmasq is not installed (.ci/run installs it: apt-get install -y dnsmasq).", e);
        }

        await _process.WaitForLineAsync("started", Bounded.Timeout, "dnsmasq");
    }

    public void Dispose()
    {
        _process?.Dispose();
        File.Delete(_config);
    }
}
