using Microsoft.Extensions.Hosting;

namespace Pigato.Hosting;

/// <summary>Runs a <see cref="Broker"/> for the host's lifetime.</summary>
internal sealed class BrokerHostedService(Broker broker) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => broker.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => broker.StopAsync(cancellationToken);
}

/// <summary>Runs a <see cref="Worker"/> for the host's lifetime; stopping drains it for its grace period.</summary>
internal sealed class WorkerHostedService(Worker worker) : IHostedService
{
    /// <summary>The worker, for health checks.</summary>
    public Worker Worker => worker;

    public Task StartAsync(CancellationToken cancellationToken) => worker.StartAsync(cancellationToken);

    /// <remarks>The host's token cuts the grace period short when the host's own shutdown timeout runs out.</remarks>
    public Task StopAsync(CancellationToken cancellationToken) => worker.StopAsync(cancellationToken);
}

/// <summary>Starts and stops the <see cref="Client"/> registered as a singleton.</summary>
internal sealed class ClientHostedService(Client client) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => client.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => client.StopAsync(cancellationToken);
}
