using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace Pigato.Perf.Roles;

/// <summary>
/// Background load for the broker-scale scenario: <c>services</c> idle raw workers, each registered under a
/// service of its own and heartbeating, plus <c>queued</c> requests (timeout -1) for a service nobody offers.
/// </summary>
internal static class FleetRole
{
    public static async Task<int> RunAsync(string endpoint, int services, int queued)
    {
        NetMQConfig.MaxSockets = Math.Max(NetMQConfig.MaxSockets, services + 64);
        var workers = new List<DealerSocket>();
        for (var i = 0; i < services; i++)
        {
            var worker = new DealerSocket();
            worker.Options.Identity = Encoding.UTF8.GetBytes($"idle-{i}-{Guid.NewGuid():N}");
            worker.Connect(endpoint);
            worker.SendMoreFrame("W").SendMoreFrame("1").SendMoreFrame($"idle-service-{i}").SendFrame("{\"concurrency\":1}");
            workers.Add(worker);
        }

        using var client = new DealerSocket();
        client.Options.SendHighWatermark = 0;
        client.Connect(endpoint);
        for (var i = 0; i < queued; i++)
        {
            client.SendMoreFrame("C").SendMoreFrame("2").SendMoreFrame("nobody-offers-this").SendMoreFrame(Guid.NewGuid().ToString())
                .SendMoreFrame("\"x\"").SendFrame("{\"timeout\":-1,\"retry\":0}");
        }

        // Keep the idle workers alive: one heartbeat each per second; drain what the broker sends them.
        using var stop = new CancellationTokenSource();
        var heartbeats = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var worker in workers)
                {
                    worker.SendMoreFrame("W").SendMoreFrame("4").SendMoreFrame("").SendFrame("{\"concurrency\":1}");
                    while (worker.TryReceiveFrameBytes(TimeSpan.Zero, out _))
                    {
                    }
                }

                await Task.Delay(1000, stop.Token).ContinueWith(_ => { });
            }
        });
        RoleHost.Emit(new { @event = "ready" });
        await RoleHost.ServeAsync();
        await stop.CancelAsync();
        await heartbeats;
        foreach (var worker in workers)
        {
            worker.Dispose();
        }

        return 0;
    }
}
