using System.Text.Json;

namespace Pigato.Routing;

/// <summary>
/// Which workers serve which service, as the broker answers it (<c>$dir</c>) and publishes it on the internal channel for
/// core services in other processes (PIGATO's own Directory). The broker's loop only.
/// </summary>
/// <remarks>
/// A change is published at once, as PIGATO's broker does (workers registering together are all listed at once), while
/// the publications of one <see cref="Period"/> have listed fewer than <see cref="WorkersPerPeriod"/> workers in all;
/// past that, by the next <see cref="PublishIfChanged"/>, so that a flood of joins and leaves costs one publication per period.
/// </remarks>
internal sealed class BrokerDirectory(Dispatcher dispatcher, WorkerRegistry workers, IBrokerOutput output, TimeProvider time, bool publishes)
{
    /// <summary>Worker ids the publications of one <see cref="Period"/> list at once, at most; past them, changes are coalesced.</summary>
    public const int WorkersPerPeriod = 4096;

    /// <summary>Coalesced publications are at most this frequent.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(50);

    private static readonly byte[] Topic = "$dir "u8.ToArray();

    private bool _changed;
    private long _windowStart;
    private int _listedInWindow;

    /// <summary>A worker joined or left (or a core service asked for a fresh publication).</summary>
    public void Changed()
    {
        if (!publishes)
        {
            return;
        }

        var now = time.GetTimestamp();
        if (time.GetElapsedTime(_windowStart, now) >= Period)
        {
            _windowStart = now;
            _listedInWindow = 0;
        }

        var cost = workers.Count + 1;
        if (_listedInWindow == 0 || _listedInWindow + cost <= WorkersPerPeriod)
        {
            _listedInWindow += cost;
            Publish();
        }
        else
        {
            _changed = true;
        }
    }

    /// <summary>Publishes the directory if a change is waiting (the broker calls it every <see cref="Period"/>).</summary>
    public void PublishIfChanged()
    {
        if (_changed)
        {
            Publish();
        }
    }

    /// <summary>
    /// Publishes the whole map again (the broker calls it every heartbeat): a directory that subscribed after the last
    /// change, or restarted, learns the map within a heartbeat instead of at the next join or leave (PUB drops what was
    /// published before a subscriber connected).
    /// </summary>
    public void Republish()
    {
        if (publishes)
        {
            Publish();
        }
    }

    /// <summary>
    /// The answer to <c>$dir</c>: with a <paramref name="service"/>, the ids of its workers (an array, empty when unknown);
    /// without, every registered service with its workers (an object of arrays). Only services <paramref name="visible"/> is true for.
    /// </summary>
    public byte[] Answer(string? service, Func<string, bool> visible) =>
        Internal.JsonFrame.Build((Directory: this, service, visible), static (json, s) => s.Directory.WriteAnswer(json, s.service, s.visible));

    private void Publish()
    {
        _changed = false;
        output.PublishDirectory(Internal.JsonFrame.Build(this, static (json, directory) => directory.WriteMap(json, static _ => true), Topic));
    }

    private void WriteAnswer(Utf8JsonWriter json, string? service, Func<string, bool> visible)
    {
        if (service is null)
        {
            WriteMap(json, visible);
            return;
        }

        json.WriteStartArray();
        if (visible(service) && dispatcher.TryGetService(service, out var entry) && entry.Registered)
        {
            WriteWorkerIds(json, entry);
        }

        json.WriteEndArray();
    }

    private void WriteMap(Utf8JsonWriter json, Func<string, bool> visible)
    {
        json.WriteStartObject();
        foreach (var entry in dispatcher.Services)
        {
            if (entry.Registered && visible(entry.Name))
            {
                json.WriteStartArray(entry.Name);
                WriteWorkerIds(json, entry);
                json.WriteEndArray();
            }
        }

        json.WriteEndObject();
    }

    private static void WriteWorkerIds(Utf8JsonWriter json, ServiceEntry entry)
    {
        foreach (var worker in entry.Workers)
        {
            json.WriteStringValue(worker.Id);
        }
    }
}
