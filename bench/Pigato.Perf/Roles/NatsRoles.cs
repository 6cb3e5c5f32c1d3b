using NATS.Client.Core;

namespace Pigato.Perf.Roles;

/// <summary>NATS request/reply with a queue group (NATS.Net), for comparison; over TLS when given the server's CA file.</summary>
internal static class NatsRoles
{
    public static async Task<int> ResponderAsync(string url, string subject, string? caFile)
    {
        await using var nats = new NatsConnection(Options(url, caFile));
        await nats.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            await foreach (var msg in nats.SubscribeAsync<byte[]>(subject, queueGroup: "workers", cancellationToken: stop.Token))
            {
                await msg.ReplyAsync(msg.Data);
            }
        });
        await nats.PingAsync();
        RoleHost.Emit(new { @event = "ready" });
        await RoleHost.ServeAsync();
        await stop.CancelAsync();
        await serving.ContinueWith(_ => { });
        return 0;
    }

    public static async Task<int> ClientAsync(string url, string subject, string mode, int count, int inFlight, int size, string? caFile)
    {
        await using var nats = new NatsConnection(Options(url, caFile));
        await nats.ConnectAsync();
        var payload = new byte[size];
        Func<Task> request = async () => await nats.RequestAsync<byte[], byte[]>(subject, payload);
        var warmUp = await Load.WarmUpAsync(request, count, inFlight);
        await RoleHost.ServeLoadAsync(warmUp, () => Load.ForMode(mode, request, count, inFlight));
        return 0;
    }

    /// <summary>NATS.Net's defaults, plus TLS required (trusting <paramref name="caFile"/>) when one is given.</summary>
    private static NatsOpts Options(string url, string? caFile) =>
        caFile is null ? new NatsOpts { Url = url } : new NatsOpts { Url = url, TlsOpts = new NatsTlsOpts { Mode = TlsMode.Require, CaFile = caFile } };
}
