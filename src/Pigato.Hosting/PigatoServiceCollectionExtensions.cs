using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pigato.Hosting;

/// <summary>Registers Pigato brokers, workers and clients as hosted services.</summary>
/// <remarks>
/// Hosted services start in registration order and stop in reverse: register the broker first, then
/// workers, then the client. Options come from an optional configuration section (property names as
/// in the options records, times as <c>hh:mm:ss</c>), then from an optional <c>configure</c> function;
/// logging always goes to the host's <see cref="ILoggerFactory"/>.
/// </remarks>
public static class PigatoServiceCollectionExtensions
{
    /// <summary>A hosted worker's default grace period, within the host's default 30 s shutdown timeout.</summary>
    public static readonly TimeSpan DefaultWorkerGracePeriod = TimeSpan.FromSeconds(10);

    /// <summary>Runs a broker; it is also registered as a singleton <see cref="Broker"/>.</summary>
    public static IServiceCollection AddPigatoBroker(this IServiceCollection services, IConfiguration? configuration = null, Func<BrokerOptions, BrokerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(sp => new Broker(Configure(new BrokerOptions(), configuration, configure) with { LoggerFactory = LoggerFactory(sp) }));
        services.AddSingleton<IHostedService>(sp => new BrokerHostedService(sp.GetRequiredService<Broker>()));
        return services;
    }

    /// <summary>
    /// Runs a worker for <paramref name="service"/>; each request is handled by a <typeparamref name="THandler"/>
    /// resolved in a new scope. THandler implements <see cref="IPigatoHandler{TData}"/> for its data type.
    /// </summary>
    /// <remarks>A hosted worker drains for <see cref="DefaultWorkerGracePeriod"/> on shutdown unless configured otherwise.</remarks>
    public static IServiceCollection AddPigatoWorker<THandler>(this IServiceCollection services, string service, IConfiguration? configuration = null, Func<WorkerOptions, WorkerOptions>? configure = null)
        where THandler : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        var dataType = typeof(THandler).GetInterfaces()
            .SingleOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IPigatoHandler<>))
            ?.GetGenericArguments()[0]
            ?? throw new ArgumentException($"{typeof(THandler).Name} must implement IPigatoHandler<TData> exactly once.", nameof(THandler));

        services.AddScoped<THandler>();
        services.AddSingleton<IHostedService>(sp =>
        {
            var options = Configure(new WorkerOptions { ShutdownGracePeriod = DefaultWorkerGracePeriod }, configuration, configure)
                with { Service = service, LoggerFactory = LoggerFactory(sp) };
            var create = CreateWorkerMethod.MakeGenericMethod(typeof(THandler), dataType);
            return new WorkerHostedService((Worker)create.Invoke(null, [sp, options])!);
        });
        return services;
    }

    /// <summary>Registers a singleton <see cref="Client"/> (also as <see cref="IPigatoClient"/>), started and stopped with the host.</summary>
    public static IServiceCollection AddPigatoClient(this IServiceCollection services, IConfiguration? configuration = null, Func<ClientOptions, ClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(sp => new Client(Configure(new ClientOptions(), configuration, configure) with { LoggerFactory = LoggerFactory(sp) }));
        services.AddSingleton<IPigatoClient>(sp => sp.GetRequiredService<Client>());
        services.AddSingleton<IHostedService>(sp => new ClientHostedService(sp.GetRequiredService<Client>()));
        return services;
    }

    private static readonly MethodInfo CreateWorkerMethod =
        typeof(PigatoServiceCollectionExtensions).GetMethod(nameof(CreateWorker), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static Worker CreateWorker<THandler, TData>(IServiceProvider services, WorkerOptions options)
        where THandler : IPigatoHandler<TData> =>
        Worker.Create<TData>(options, async (data, reply, requestOptions) =>
        {
            var scope = services.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                await scope.ServiceProvider.GetRequiredService<THandler>().HandleAsync(data, reply, requestOptions).ConfigureAwait(false);
            }
        });

    private static T Configure<T>(T defaults, IConfiguration? configuration, Func<T, T>? configure)
        where T : class
    {
        configuration?.Bind(defaults);
        return configure is null ? defaults : configure(defaults);
    }

    private static ILoggerFactory LoggerFactory(IServiceProvider services) =>
        services.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
}
