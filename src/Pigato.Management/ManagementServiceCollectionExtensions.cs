using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pigato.Management;

/// <summary>Registers a broker's management endpoint with a host (beside <c>AddPigatoBroker</c> of Pigato.Hosting).</summary>
public static class ManagementServiceCollectionExtensions
{
    /// <summary>
    /// Serves the management endpoint of the <see cref="Broker"/> registered in <paramref name="services"/> for the host's
    /// lifetime, with <see cref="BrokerManagementOptions"/> bound from <paramref name="configuration"/> (<c>Url</c>,
    /// <c>Token</c>, <c>SampleInterval</c>, <c>History</c>, <c>MaxEntries</c>) then passed through <paramref name="configure"/>.
    /// Register it after the broker, so that it starts after it and stops before it.
    /// </summary>
    public static IServiceCollection AddPigatoBrokerManagement(this IServiceCollection services, IConfiguration? configuration = null, Func<BrokerManagementOptions, BrokerManagementOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(sp =>
        {
            var options = new BrokerManagementOptions();
            configuration?.Bind(options);
            options = (configure?.Invoke(options) ?? options) with { LoggerFactory = sp.GetService<ILoggerFactory>() ?? options.LoggerFactory };
            return new BrokerManagement(sp.GetRequiredService<Broker>(), options);
        });
        services.AddSingleton<IHostedService>(sp => new ManagementHostedService(sp.GetRequiredService<BrokerManagement>()));
        return services;
    }

    private sealed class ManagementHostedService(BrokerManagement management) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => management.StartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => management.StopAsync(cancellationToken);
    }
}
