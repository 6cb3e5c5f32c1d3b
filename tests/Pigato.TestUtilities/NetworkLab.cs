using System.Diagnostics;

namespace Pigato.TestUtilities;

/// <summary>
/// Hosts on a switch, made of Linux network namespaces: each host is a namespace with one veth link to a bridge in a
/// switch namespace, on a private /24 that exists only inside them. A cut drops the packets between two hosts at the
/// switch (nftables, bridge family), so that neither host sees a reset, an unreachable or a link going down: the
/// silent failure of a cable, a switch or a security group. Needs root, iproute2 and nftables; everything made is
/// deleted on dispose.
/// </summary>
public sealed class NetworkLab : IDisposable
{
    private static int s_labs;

    private readonly string _prefix;
    private readonly string _subnet;
    private readonly List<string> _namespaces = [];
    private readonly Dictionary<string, NetworkHost> _hosts = new(StringComparer.Ordinal);
    private readonly HashSet<(string, string)> _cuts = [];

    private NetworkLab(string prefix, string subnet)
    {
        _prefix = prefix;
        _subnet = subnet;
    }

    private string Switch => _prefix + "-sw";

    /// <summary>Why namespaces cannot be made here (not root, no <c>ip</c> or <c>nft</c>), or null when they can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return "network namespaces need root on Linux";
        }

        foreach (var tool in new[] { "ip", "nft" })
        {
            if (!new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }.Any(dir => File.Exists(Path.Combine(dir, tool))))
            {
                return $"'{tool}' is not installed (apt-get install -y iproute2 nftables)";
            }
        }

        return null;
    }

    /// <summary>A lab with its switch; names and the subnet are unique to this process and lab.</summary>
    public static NetworkLab Create()
    {
        var number = Interlocked.Increment(ref s_labs);
        var lab = new NetworkLab($"pg{Environment.ProcessId % 100_000}x{number}", $"10.231.{(Environment.ProcessId + number) % 250}");
        try
        {
            lab.AddNamespace(lab.Switch);
            Run("ip", "-n", lab.Switch, "link", "add", "br0", "type", "bridge");
            Run("ip", "-n", lab.Switch, "link", "set", "br0", "up");
            Run("ip", "netns", "exec", lab.Switch, "nft", "add table bridge lab; add chain bridge lab links { type filter hook forward priority 0; }");
        }
        catch
        {
            lab.Dispose();
            throw;
        }

        return lab;
    }

    /// <summary>A host plugged into the switch, with the next address of the lab's subnet.</summary>
    public NetworkHost AddHost(string name)
    {
        var index = _hosts.Count + 1;
        var host = new NetworkHost(name, $"{_prefix}-{name}", $"{_subnet}.{index}");
        var port = $"v{index}";
        AddNamespace(host.Namespace);
        Run("ip", "link", "add", "eth0", "netns", host.Namespace, "type", "veth", "peer", "name", port, "netns", Switch);
        Run("ip", "-n", Switch, "link", "set", port, "master", "br0");
        Run("ip", "-n", Switch, "link", "set", port, "up");
        Run("ip", "-n", host.Namespace, "addr", "add", $"{host.Address}/24", "dev", "eth0");
        Run("ip", "-n", host.Namespace, "link", "set", "eth0", "up");
        Run("ip", "-n", host.Namespace, "link", "set", "lo", "up");
        _hosts.Add(name, host);
        return host;
    }

    /// <summary>From now on the switch drops every packet between <paramref name="a"/> and <paramref name="b"/>, both ways, without a word.</summary>
    public void Cut(NetworkHost a, NetworkHost b)
    {
        if (_cuts.Add(Key(a, b)))
        {
            Run("ip", "netns", "exec", Switch, "nft", $"add rule bridge lab links ip saddr {a.Address} ip daddr {b.Address} drop comment \"{Key(a, b)}\"; add rule bridge lab links ip saddr {b.Address} ip daddr {a.Address} drop comment \"{Key(a, b)}\"");
        }
    }

    /// <summary>Heals every cut: the switch forwards everything again.</summary>
    public void HealAll()
    {
        Run("ip", "netns", "exec", Switch, "nft", "flush chain bridge lab links");
        _cuts.Clear();
    }

    private static (string, string) Key(NetworkHost a, NetworkHost b) =>
        string.CompareOrdinal(a.Name, b.Name) < 0 ? (a.Name, b.Name) : (b.Name, a.Name);

    private void AddNamespace(string name)
    {
        Run("ip", "netns", "add", name);
        _namespaces.Add(name);
    }

    /// <summary>Runs a command to its end (bounded); throws with its output when it fails.</summary>
    private static void Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} could not be started.");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            throw new InvalidOperationException($"'{file} {string.Join(' ', args)}' did not end within 10 s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {string.Join(' ', args)}' failed ({process.ExitCode}): {error.Result}{output.Result}");
        }
    }

    /// <summary>Deletes every namespace made (their links and addresses go with them); processes are the caller's to stop first.</summary>
    public void Dispose()
    {
        foreach (var name in Enumerable.Reverse(_namespaces))
        {
            try
            {
                Run("ip", "netns", "del", name);
            }
            catch (InvalidOperationException)
            {
                // Deleted already, or still busy: nothing else here can help.
            }
        }

        _namespaces.Clear();
    }
}

/// <summary>A host of a <see cref="NetworkLab"/>: its namespace and its one address.</summary>
public sealed record NetworkHost(string Name, string Namespace, string Address)
{
    /// <summary>A TCP endpoint on this host.</summary>
    public string Endpoint(int port) => $"tcp://{Address}:{port}";
}
