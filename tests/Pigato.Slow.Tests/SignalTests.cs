using Pigato.TestUtilities;

namespace Pigato.Slow.Tests;

/// <summary>The <c>pigato</c> commands as services: SIGTERM stops them cleanly (exit code 0), the management endpoint included.</summary>
public sealed class SignalTests
{
    [Fact]
    public async Task BrokerWithItsManagementEndpoint_StopsCleanlyOnSigterm()
    {
        using var broker = await PigatoProcess.StartBrokerAsync(null, "--http", "127.0.0.1:" + Ports.FreePort());
        await Bounded.UntilAsync(() => broker.Output.Any(l => l.Contains("management endpoint on", StringComparison.Ordinal)), "the management endpoint to listen");

        Assert.Equal(0, await broker.TerminateAsync());
        Assert.Contains("broker stopped", broker.Output);
    }

    [Fact]
    public async Task Worker_StopsCleanlyOnSigterm()
    {
        using var broker = await PigatoProcess.StartBrokerAsync();
        using var worker = await PigatoProcess.StartWorkerAsync(broker.Endpoint, "echo");

        Assert.Equal(0, await worker.TerminateAsync());
        Assert.Contains("worker stopped", worker.Output);
    }
}
