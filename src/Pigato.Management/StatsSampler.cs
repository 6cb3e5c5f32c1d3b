using Microsoft.Extensions.Logging;
using Pigato.Monitoring;

namespace Pigato.Management;

/// <summary>
/// Samples the broker every interval: keeps the latest snapshot as a <see cref="StatsDocument"/> serialized once (every
/// reader and event stream shares the text), the history of
/// <see cref="Sample"/>s the charts draw (a bounded ring), and wakes every event stream once per sample.
/// </summary>
internal sealed class StatsSampler(Broker broker, BrokerManagementOptions options, ILogger logger)
{
    private readonly Queue<Sample> _history = new();
    private readonly Lock _gate = new();
    private readonly int _capacity = (int)Math.Max(1, options.History / options.SampleInterval);
    private BrokerSnapshot? _previous;
    private string? _latest;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The last document as JSON, or null before the first sample.</summary>
    public string? Latest => Volatile.Read(ref _latest);

    /// <summary>The samples kept, oldest first.</summary>
    public IReadOnlyList<Sample> History()
    {
        lock (_gate)
        {
            return [.. _history];
        }
    }

    /// <summary>Samples until <paramref name="cancellationToken"/> is cancelled; a broker not running is waited for, not an error.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.SampleInterval);
        do
        {
            try
            {
                await SampleAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PigatoException e) when (e.Code == PigatoErrorCodes.NotRunning)
            {
                // Started before the broker, or the broker stopped: nothing to sample.
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                ManagementLog.SampleFailed(logger, e.Message, e);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// The broker now, as JSON (<c>/api/stats</c>): a fresh snapshot with the last sample's rates. It leaves the samples
    /// alone, so that readers polling it do not change the charts' intervals.
    /// </summary>
    public async Task<string> CurrentAsync(CancellationToken cancellationToken)
    {
        var snapshot = await broker.GetSnapshotAsync(options.MaxEntries, cancellationToken).ConfigureAwait(false);
        Sample? last;
        lock (_gate)
        {
            last = _history.Count > 0 ? _history.Last() : null;
        }

        return Json(snapshot, last);
    }

    /// <summary>Takes one sample (the sampling loop only: it keeps the previous snapshot for the rates).</summary>
    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        var snapshot = await broker.GetSnapshotAsync(options.MaxEntries, cancellationToken).ConfigureAwait(false);
        var sample = _previous is { } previous ? SampleOf(snapshot, previous) : null;
        _previous = snapshot;
        var json = Json(snapshot, sample);
        TaskCompletionSource woken;
        lock (_gate)
        {
            if (sample is not null)
            {
                _history.Enqueue(sample);
                while (_history.Count > _capacity)
                {
                    _history.Dequeue();
                }
            }

            Volatile.Write(ref _latest, json);
            woken = _next;
            _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        woken.SetResult();
    }

    /// <summary>The latest document's JSON now (when there is one), then each new one, until cancelled.</summary>
    public async IAsyncEnumerable<string> StreamAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Task next;
        lock (_gate)
        {
            next = _next.Task;
        }

        if (Latest is { } first)
        {
            yield return first;
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await next.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            lock (_gate)
            {
                next = _next.Task;
            }

            yield return Latest!;
        }
    }

    private string Json(BrokerSnapshot snapshot, Sample? rates)
    {
        var document = new StatsDocument(
            snapshot.Broker, snapshot.StartedAt, snapshot.TakenAt, snapshot.Stats, snapshot.Counters, LatencyDocument.Of(snapshot.RequestDuration), rates,
            snapshot.Services, [.. snapshot.Workers.Select(WorkerDocument.Of)], snapshot.Clients, snapshot.Poisoned, LimitsDocument.Of(broker.Options));
        return System.Text.Json.JsonSerializer.Serialize(document, ManagementJsonContext.Default.StatsDocument);
    }

    private static Sample SampleOf(BrokerSnapshot now, BrokerSnapshot before)
    {
        var seconds = Math.Max(0.001, (now.TakenAt - before.TakenAt).TotalSeconds);
        double Rate(long current, long earlier) => Math.Round((current - earlier) / seconds, 1);
        var c = now.Counters;
        var p = before.Counters;
        var interval = now.RequestDuration.Since(before.RequestDuration);
        return new Sample(
            now.TakenAt.ToUnixTimeMilliseconds(),
            Rate(c.Received, p.Received),
            Rate(c.Completed, p.Completed),
            Rate(c.Failed + c.Refused + c.Expired + c.Abandoned, p.Failed + p.Refused + p.Expired + p.Abandoned),
            Rate(c.Rejected, p.Rejected),
            c.SlowConsumers - p.SlowConsumers,
            now.Stats.QueuedRequests,
            now.Stats.InFlightRequests,
            now.Stats.Workers,
            now.Stats.Clients,
            now.Stats.HeldBytes,
            LatencyDocument.Milliseconds(interval.Percentile(0.5)),
            LatencyDocument.Milliseconds(interval.Percentile(0.99)));
    }
}
