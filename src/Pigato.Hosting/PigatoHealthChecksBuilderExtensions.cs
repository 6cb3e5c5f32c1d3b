using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Pigato.Hosting;

/// <summary>Health checks for the Pigato broker, workers and client registered with <see cref="PigatoServiceCollectionExtensions"/>.</summary>
public static class PigatoHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds one check, <paramref name="name"/>, over every Pigato actor the host runs: unhealthy when the broker is not running,
    /// a worker is not registered or the client is not connected; degraded when the broker's queues or the client's pending
    /// requests pass <paramref name="backlogThreshold"/>.
    /// </summary>
    public static IHealthChecksBuilder AddPigato(this IHealthChecksBuilder builder, string name = "pigato", int backlogThreshold = 10_000)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfLessThan(backlogThreshold, 0);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new PigatoHealthCheck(sp.GetServices<IHostedService>(), sp.GetService<Broker>(), sp.GetService<Client>(), backlogThreshold),
            failureStatus: null,
            tags: ["pigato"]));
    }
}
