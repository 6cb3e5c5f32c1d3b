using System.Text.Json;

namespace Pigato;

/// <summary>Options of one request; all of them travel in the request's options frame and reach the worker.</summary>
public sealed record RequestOptions
{
    /// <summary>No option set: the client's defaults apply.</summary>
    public static readonly RequestOptions Default = new();

    /// <summary>Time without any reply after which the request fails with C_TIMEOUT; null = the client's default, <see cref="Timeout.InfiniteTimeSpan"/> = never.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// The most time the whole request may take from the call, partial replies included (unlike <see cref="Timeout"/>,
    /// activity does not renew it); then it fails with <c>C_TIMEOUT</c>. It travels as the budget that remains (sent as
    /// <c>deadline</c>, milliseconds), so clocks need not agree: a Pigato for .NET broker never dispatches the request past
    /// it, the worker sees it as <see cref="WorkerReply.Deadline"/> with its token tripping then, and a <see cref="Client"/>
    /// called from that handler gives its own requests no more than what remains, across any number of hops. Null: none,
    /// unless the request is made from a handler whose request has one.
    /// </summary>
    public TimeSpan? Deadline { get; init; }

    /// <summary>If the worker holding the request is lost, the broker gives it to another worker.</summary>
    public bool Retry { get; init; }

    /// <summary>Only this worker may handle the request.</summary>
    public string? WorkerId { get; init; }

    /// <summary>
    /// Sent as <c>nocache</c>, PIGATO's option for a broker cache that neither PIGATO 0.0.46 nor this broker has: the broker
    /// passes it on, and a worker may read it in the request's options.
    /// </summary>
    public bool NoCache { get; init; }

    /// <summary>
    /// A durable request (sent as <c>persist</c>): a broker with a store keeps it there until its final reply, so that it
    /// survives a broker crash; when the connection to its broker is lost, the client sends it again under the same rid to a
    /// live broker, which re-attaches it (it runs again only if no broker holds it any more). The caller gets one final reply;
    /// the worker may run it more than once (at least once). See README, "Durable requests".
    /// </summary>
    public bool Persist { get; init; }

    /// <summary>
    /// When no registered worker can serve the service (its name, a wildcard or a semver range), fail at once with
    /// <c>ERR_NO_WORKERS</c> (sent as <c>failWithoutWorkers</c>) instead of waiting in the queue for one until the timeout, as
    /// PIGATO does. Null (the default): <see cref="ClientOptions.FailWithoutWorkers"/>, then the broker's
    /// <see cref="BrokerOptions.FailWithoutWorkers"/>. With several brokers the client tries the others before failing.
    /// </summary>
    public bool? FailWithoutWorkers { get; init; }

    /// <summary>Free fields added to the options object as they are; the worker sees them.</summary>
    public IReadOnlyDictionary<string, object?>? Fields { get; init; }

    internal static void ValidateTimeout(TimeSpan timeout, string name)
    {
        if (timeout != System.Threading.Timeout.InfiniteTimeSpan && timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, timeout, "A timeout must be positive, or Timeout.InfiniteTimeSpan.");
        }
    }

    /// <summary>Writes the options frame: <c>{"timeout":ms,"retry":0|1,...}</c> as the original client does.</summary>
    internal byte[] ToJson(TimeSpan timeout, JsonSerializerOptions serializerOptions, bool? failWithoutWorkers = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("timeout", timeout == System.Threading.Timeout.InfiniteTimeSpan ? -1 : (long)timeout.TotalMilliseconds);
            json.WriteNumber("retry", Retry ? 1 : 0);
            if (WorkerId is not null)
            {
                json.WriteString("workerId", WorkerId);
            }

            if (NoCache)
            {
                json.WriteBoolean("nocache", true);
            }

            if (Persist)
            {
                json.WriteBoolean("persist", true);
            }

            if ((FailWithoutWorkers ?? failWithoutWorkers) is { } fail)
            {
                json.WriteBoolean("failWithoutWorkers", fail);
            }

            foreach (var (name, value) in Fields ?? new Dictionary<string, object?>())
            {
                json.WritePropertyName(name);
                JsonSerializer.Serialize(json, value, value?.GetType() ?? typeof(object), serializerOptions);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
