using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pigato.Hosting;
using Pigato.TestUtilities;
using Pigato.Management;

namespace Pigato.Integration.Tests;

/// <summary>A generic host with a broker, a worker and a client registered through Pigato.Hosting.</summary>
public class HostingTests
{
    /// <summary>Counts handled requests: a singleton the scoped handler receives by injection.</summary>
    public sealed class Counter
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Add() => Interlocked.Increment(ref _count);
    }

    /// <summary>Gates the handler so that a test can hold a request in flight.</summary>
    public sealed class Gate
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Enabled { get; set; }
    }

    public sealed class UpperHandler(Counter counter, Gate gate) : IPigatoHandler<string>
    {
        public async ValueTask HandleAsync(string? data, WorkerReply reply, JsonElement options)
        {
            counter.Add();
            if (gate.Enabled)
            {
                gate.Started.TrySetResult();
                await gate.Release.Task;
            }

            await reply.EndAsync(data?.ToUpperInvariant());
        }
    }

    private static IHost BuildHost(string endpoint)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pigato:Broker:Endpoint"] = endpoint,
            ["Pigato:Broker:InternalEndpoint"] = "",
            ["Pigato:Broker:HeartbeatInterval"] = "00:00:01",
            ["Pigato:Worker:Endpoint"] = endpoint,
            ["Pigato:Worker:Concurrency"] = "4",
            ["Pigato:Worker:ShutdownGracePeriod"] = "00:00:10",
            ["Pigato:Client:Endpoint"] = endpoint,
        });
        builder.Services.AddSingleton<Counter>();
        builder.Services.AddSingleton<Gate>();
        builder.Services.AddPigatoBroker(builder.Configuration.GetSection("Pigato:Broker"));
        builder.Services.AddPigatoWorker<UpperHandler>("upper", builder.Configuration.GetSection("Pigato:Worker"));
        builder.Services.AddPigatoClient(builder.Configuration.GetSection("Pigato:Client"));
        builder.Services.AddHealthChecks().AddPigato(backlogThreshold: 100);
        return builder.Build();
    }


    [Fact]
    public async Task HealthCheck_IsHealthyWhenAllIsUp_AndUnhealthyWhenTheBrokerStops()
    {
        using var host = BuildHost(Ports.FreeEndpoint());
        await host.StartAsync(Bounded.Token());
        var health = host.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>();
        var client = host.Services.GetRequiredService<Client>();
        await client.RequestAsync<string>("upper", "warm", cancellationToken: Bounded.Token());

        var up = await health.CheckHealthAsync(Bounded.Token());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, up.Status);
        Assert.Equal(true, up.Entries["pigato"].Data["worker.upper.registered"]);

        await host.Services.GetRequiredService<Broker>().StopAsync();
        var down = await health.CheckHealthAsync(Bounded.Token());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, down.Status);
        Assert.Contains("the broker is not running", down.Entries["pigato"].Description, StringComparison.Ordinal);
        await host.StopAsync(Bounded.Token());
    }

    [Fact]
    public async Task Host_WithBrokerWorkerAndClient_AnswersThroughAScopedHandler()
    {
        using var host = BuildHost(Ports.FreeEndpoint());
        await host.StartAsync(Bounded.Token());
        var client = host.Services.GetRequiredService<IPigatoClient>();
        Assert.Same(host.Services.GetRequiredService<Client>(), client);

        Assert.Equal("HELLO", await client.RequestAsync<string>("upper", "hello", cancellationToken: Bounded.Token()));
        Assert.Equal(1, host.Services.GetRequiredService<Counter>().Count);
        Assert.Equal(TimeSpan.FromSeconds(1), host.Services.GetRequiredService<Broker>().Options.HeartbeatInterval);

        await host.StopAsync(Bounded.Token());
    }

    [Fact]
    public async Task Host_Shutdown_FinishesTheRequestInFlight()
    {
        var endpoint = Ports.FreeEndpoint();
        using var host = BuildHost(endpoint);
        var gate = host.Services.GetRequiredService<Gate>();
        gate.Enabled = true;
        await host.StartAsync(Bounded.Token());
        await using var outside = new Client(new ClientOptions { Endpoint = endpoint });
        await outside.StartAsync();
        var call = outside.RequestAsync<string>("upper", "late", cancellationToken: Bounded.Token()).AsTask();
        await gate.Started.Task.WithinAsync("the request to start");

        var stopping = host.StopAsync(Bounded.Token());
        gate.Release.SetResult();

        Assert.Equal("LATE", await call.WithinAsync("the request in flight to finish"));
        await stopping.WithinAsync("the host to stop");
    }

    [Fact]
    public void AddPigatoWorker_HandlerWithoutInterface_IsRefused() =>
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddPigatoWorker<Counter>("x"));
}

/// <summary>Configuration binding of options that are lists, records or durations.</summary>
public class HostingConfigurationTests
{
    [Fact]
    public async Task ClientAndWorkerEndpoints_BindFromConfiguration()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Client:Endpoints:0"] = "tcp://127.0.0.1:1",
                ["Client:Endpoints:1"] = "tcp://127.0.0.1:2",
                ["Worker:Endpoints:0"] = "tcp://127.0.0.1:3",
                ["Client:CurveServerKey"] = Pigato.Security.CurveKeys.Generate().PublicKey,
                ["Client:Credential:Principal"] = "api",
                ["Client:Credential:Token"] = "t0ken",
            })
            .Build();
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddLogging();
        services.AddPigatoClient(configuration.GetSection("Client"));
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<Client>();

        Assert.Equal(["tcp://127.0.0.1:1", "tcp://127.0.0.1:2"], client.Options.Endpoints);
        Assert.Equal(new Pigato.Security.PigatoCredential("api", "t0ken"), client.Options.Credential);
        Assert.NotNull(client.Options.CurveServerKey);
        Assert.Equal(["tcp://127.0.0.1:3"], Microsoft.Extensions.Configuration.ConfigurationBinder.Get<WorkerOptions>(configuration.GetSection("Worker"))!.Endpoints);
    }

    [Fact]
    public async Task BrokerStoreLimits_BindFromConfiguration_TheStoreIsSetInCode()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Broker:MaxStoredRequests"] = "5000",
                ["Broker:StoreLease"] = "00:00:05",
            })
            .Build();
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddLogging();
        services.AddPigatoBroker(configuration.GetSection("Broker"), o => o with { Store = Persistence.SqliteRequestStore.At("/var/lib/pigato/requests.db") });
        await using var provider = services.BuildServiceProvider();

        var broker = provider.GetRequiredService<Broker>();

        Assert.Equal("sqlite:/var/lib/pigato/requests.db", broker.Options.Store?.Description);
        Assert.Equal(5000, broker.Options.MaxStoredRequests);
        Assert.Equal(TimeSpan.FromSeconds(5), broker.Options.StoreLease);
    }
    [Fact]
    public async Task BrokerManagement_BindsFromConfiguration_AndServesForTheHostsLifetime()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pigato:Broker:Endpoint"] = Ports.FreeEndpoint(),
            ["Pigato:Broker:InternalEndpoint"] = "",
            ["Pigato:Management:Url"] = "http://127.0.0.1:0",
            ["Pigato:Management:SampleInterval"] = "00:00:00.250",
        });
        builder.Services.AddPigatoBroker(builder.Configuration.GetSection("Pigato:Broker"));
        builder.Services.AddPigatoBrokerManagement(builder.Configuration.GetSection("Pigato:Management"));
        using var host = builder.Build();
        await host.StartAsync(Bounded.Token());
        var management = host.Services.GetRequiredService<Pigato.Management.BrokerManagement>();
        using var http = new HttpClient { BaseAddress = new Uri(management.Url!) };

        var health = await http.GetStringAsync("/healthz");
        await host.StopAsync(Bounded.Token());

        Assert.Contains(host.Services.GetRequiredService<Broker>().Name, health, StringComparison.Ordinal);
        Assert.Null(management.Url);
    }
}
