using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Pigato.Management;

/// <summary>
/// A broker's management endpoint on ASP.NET Core (Kestrel, minimal APIs): <c>/healthz</c>, <c>/api/stats</c> (JSON),
/// <c>/api/history</c> (the charts' samples), <c>/api/events</c> (Server-Sent Events, one per sample), <c>/metrics</c>
/// (Prometheus, OpenTelemetry's exporter of the <c>Pigato</c> meter) and <c>/</c>, a live dashboard served from the assembly.
/// </summary>
/// <remarks>Off unless started. Loopback by default; when the broker requires authentication, so does the endpoint (a token).</remarks>
public sealed class BrokerManagement : IAsyncDisposable
{
    private const string TokenCookie = "pigato_token";

    private readonly Broker _broker;
    private readonly BrokerManagementOptions _options;
    private readonly ILogger _logger;
    private readonly StatsSampler _sampler;
    private readonly byte[]? _token;
    private WebApplication? _app;
    private CancellationTokenSource? _stopping;
    private Task? _sampling;

    /// <summary>Creates the endpoint for <paramref name="broker"/>; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range (the URL, the token's length, the intervals).</exception>
    public BrokerManagement(Broker broker, BrokerManagementOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(broker);
        _broker = broker;
        _options = options ?? new BrokerManagementOptions();
        _options.Validate();
        _logger = _options.LoggerFactory.CreateLogger<BrokerManagement>();
        _sampler = new StatsSampler(broker, _options, _logger);
        Token = _options.Token ?? (broker.Options.RequiresAuthentication ? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)) : null);
        _token = Token is null ? null : Encoding.UTF8.GetBytes(Token);
    }

    /// <summary>The URL actually listened on (a port 0 resolved), or null when not started.</summary>
    public string? Url { get; private set; }

    /// <summary>The token requests must carry, or null when the endpoint is open (see <see cref="BrokerManagementOptions.Token"/>).</summary>
    public string? Token { get; }

    /// <summary>Starts listening and sampling the broker (which may start later).</summary>
    /// <exception cref="IOException">The address cannot be bound (in use, not local).</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("The management endpoint is already started.");
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.WebHost.UseUrls(BrokerManagementOptions.UrlOf(_options.Url));
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(Broker.MeterName).AddPrometheusExporter());
        var app = builder.Build();
        if (_token is not null)
        {
            app.Use(RequireTokenAsync);
        }

        Map(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? _options.Url;
        _stopping = new CancellationTokenSource();
        _sampling = Task.Run(() => _sampler.RunAsync(_stopping.Token), CancellationToken.None);
        ManagementLog.Listening(_logger, Url);
        if (_options.Token is null && Token is not null)
        {
            ManagementLog.TokenMade(_logger, Url, Token);
        }
    }

    /// <summary>Stops sampling and listening; open event streams end.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_app is not { } app)
        {
            return;
        }

        _app = null;
        await _stopping!.CancelAsync().ConfigureAwait(false);
        try
        {
            await _sampling!.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
        await app.StopAsync(cancellationToken).ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        Url = null;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private void Map(WebApplication app)
    {
        app.MapGet("/healthz", () => _broker.IsRunning
            ? Results.Json(new Dictionary<string, string> { ["status"] = "healthy", ["broker"] = _broker.Name })
            : Results.Json(new Dictionary<string, string> { ["status"] = "unhealthy", ["broker"] = _broker.Name, ["reason"] = "the broker is not running" }, statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/api/stats", async (CancellationToken cancellationToken) =>
        {
            if (!_broker.IsRunning)
            {
                return Results.Problem("The broker is not running.", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            return Results.Text(await _sampler.CurrentAsync(cancellationToken).ConfigureAwait(false), "application/json");
        });
        app.MapGet("/api/history", () => Results.Text(JsonSerializer.Serialize(_sampler.History(), ManagementJsonContext.Default.IReadOnlyListSample), "application/json"));
        app.MapGet("/api/events", (CancellationToken cancellationToken) =>
            TypedResults.ServerSentEvents(_sampler.StreamAsync(cancellationToken), eventType: "stats"));
        app.MapPrometheusScrapingEndpoint("/metrics");
        MapAsset(app, "/", "index.html", "text/html; charset=utf-8");
        MapAsset(app, "/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8");
        MapAsset(app, "/dashboard.css", "dashboard.css", "text/css; charset=utf-8");
    }

    private static void MapAsset(WebApplication app, string path, string resource, string contentType)
    {
        using var stream = typeof(BrokerManagement).Assembly.GetManifestResourceStream("Dashboard/" + resource)
            ?? throw new InvalidOperationException($"The dashboard asset {resource} is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var bytes = copy.ToArray();
        app.MapGet(path, () => Results.Bytes(bytes, contentType));
    }

    /// <summary>
    /// Every request but <c>/healthz</c> carries the token: as a bearer header, as <c>?token=</c> (the dashboard's first
    /// load, which sets an HTTP-only cookie for its assets and event stream), or in that cookie.
    /// </summary>
    private async Task RequireTokenAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.Path == "/healthz")
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        var query = context.Request.Query["token"].ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim()
            : query.Length > 0 ? query
            : context.Request.Cookies[TokenCookie] ?? "";
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _token))
        {
            ManagementLog.Unauthorized(_logger, context.Connection.RemoteIpAddress?.ToString(), context.Request.Path);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"pigato\"";
            await context.Response.WriteAsync("A token is required: 'Authorization: Bearer TOKEN', or open /?token=TOKEN once.", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (query.Length > 0)
        {
            context.Response.Cookies.Append(TokenCookie, presented, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });
        }

        await next(context).ConfigureAwait(false);
    }
}
