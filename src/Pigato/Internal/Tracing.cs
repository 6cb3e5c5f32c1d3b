using System.Diagnostics;
using System.Text.Json;

namespace Pigato.Internal;

/// <summary>
/// The <c>Pigato</c> activity source and the W3C trace context in a request's options (<c>traceparent</c>, <c>tracestate</c>),
/// following OpenTelemetry's messaging conventions. Nothing is made, parsed or written unless a listener is attached.
/// </summary>
internal static class Tracing
{
    public const string SourceName = "Pigato";

    public static readonly ActivitySource Source = new(SourceName, typeof(Tracing).Assembly.GetName().Version?.ToString());

    /// <summary>Starts a span (null when nobody listens) with the messaging attributes.</summary>
    public static Activity? Start(string operation, string service, ActivityKind kind, string? rid, ActivityContext parent = default)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity($"{operation} {service}", kind, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "pigato");
            activity.SetTag("messaging.operation.name", operation);
            activity.SetTag("messaging.destination.name", service);
            if (rid is not null)
            {
                activity.SetTag("messaging.message.id", rid);
            }
        }

        return activity;
    }

    /// <summary>The options frame with the span's context in <c>traceparent</c> (and <c>tracestate</c>), replacing any there.</summary>
    public static byte[] Inject(ReadOnlySpan<byte> options, Activity activity) =>
        JsonFrame.WithFields(options, ("traceparent", activity.Id), ("tracestate", activity.TraceStateString is { Length: > 0 } state ? state : null));

    /// <summary>The trace context a request's options carry, or default (also when a value is not a valid string).</summary>
    public static ActivityContext Extract(JsonElement options)
    {
        try
        {
            return options.ValueKind == JsonValueKind.Object
                && options.TryGetProperty("traceparent", out var parent) && parent.ValueKind == JsonValueKind.String
                && ActivityContext.TryParse(parent.GetString(), options.TryGetProperty("tracestate", out var state) && state.ValueKind == JsonValueKind.String ? state.GetString() : null, isRemote: true, out var context)
                    ? context
                    : default;
        }
        catch (InvalidOperationException)
        {
            // A string escaping a lone surrogate ("\ud800") cannot be read as text: no trace context.
            return default;
        }
    }

    /// <summary>The trace context in an options frame, or default (only called when someone listens).</summary>
    public static ActivityContext Extract(ReadOnlySpan<byte> options) => Extract(JsonFrame.Parse(options, keepInvalidAsText: false));

    /// <summary>Ends a span from any thread, leaving that thread's current activity as it was.</summary>
    public static void Stop(Activity? activity, string? errorCode = null)
    {
        if (activity is null)
        {
            return;
        }

        if (errorCode is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, errorCode);
            activity.SetTag("error.type", errorCode);
        }

        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }
}
