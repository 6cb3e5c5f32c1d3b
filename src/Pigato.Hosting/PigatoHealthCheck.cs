using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Pigato.Hosting;

/// <summary>
/// The health of the Pigato actors a host runs: a broker that is running and whose queues stay under the backlog threshold,
/// workers registered with a broker, a client connected to one with its pending requests under the threshold.
/// </summary>
internal sealed class PigatoHealthCheck(IEnumerable<IHostedService> hosted, Broker? broker, Client? client, int backlogThreshold) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var problems = new List<string>();
        var degraded = new List<string>();
        if (broker is not null)
        {
            if (!broker.IsRunning)
            {
                problems.Add("the broker is not running");
            }
            else
            {
                var stats = await broker.GetStatsAsync(cancellationToken).ConfigureAwait(false);
                data["broker.workers"] = stats.Workers;
                data["broker.queued"] = stats.QueuedRequests;
                data["broker.held_bytes"] = stats.HeldBytes;
                if (stats.QueuedRequests > backlogThreshold)
                {
                    degraded.Add($"the broker has {stats.QueuedRequests} requests queued (threshold {backlogThreshold})");
                }
            }
        }

        foreach (var worker in hosted.OfType<WorkerHostedService>().Select(h => h.Worker))
        {
            data[$"worker.{worker.Service}.registered"] = worker.IsConnected;
            if (!worker.IsConnected)
            {
                problems.Add($"the worker for '{worker.Service}' is not registered with a broker");
            }
        }

        if (client is not null)
        {
            data["client.connected"] = client.IsConnected;
            data["client.pending"] = client.PendingCount;
            if (!client.IsConnected)
            {
                problems.Add("the client is not connected to a broker");
            }
            else if (client.PendingCount > backlogThreshold)
            {
                degraded.Add($"the client has {client.PendingCount} requests pending (threshold {backlogThreshold})");
            }
        }

        return problems.Count > 0 ? HealthCheckResult.Unhealthy(string.Join("; ", problems), data: data)
            : degraded.Count > 0 ? HealthCheckResult.Degraded(string.Join("; ", degraded), data: data)
            : HealthCheckResult.Healthy("Pigato is up", data);
    }
}
