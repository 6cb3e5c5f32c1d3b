using Microsoft.Extensions.Hosting;

namespace Pigato.Management;

/// <summary>
/// The endpoint's web host lives inside someone else's process (the <c>pigato broker</c> command, an application's host):
/// it must not take over SIGTERM and Ctrl+C as ASP.NET Core's console lifetime does, or the process would never stop.
/// Its owner stops it with <see cref="BrokerManagement.StopAsync"/>.
/// </summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
