using System.Text.Json;

namespace Pigato.Perf.Roles;

/// <summary>
/// What every child process of the benchmark shares: JSON lines on stdout for the orchestrator, commands
/// on stdin (<c>stats</c> reports allocations and GC counts, <c>stop</c> ends the role, others go to the role).
/// </summary>
internal static class RoleHost
{
    private static readonly Lock Gate = new();

    public static void Emit(object value)
    {
        var line = JsonSerializer.Serialize(value, JsonSerializerOptions.Web);
        lock (Gate)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    /// <summary>A client role after its warm-up: says ready, then runs the measured load on each <c>go</c> and emits its result.</summary>
    public static async Task ServeLoadAsync(WarmUpSummary warmUp, Func<Task<LoadResult>> load)
    {
        Emit(new { @event = "ready", warmUp });
        await ServeAsync(async command =>
        {
            if (command == "go")
            {
                Emit(new { @event = "result", result = await load() });
            }
        });
    }

    /// <summary>Serves commands until <c>stop</c> (or the end of stdin).</summary>
    public static async Task ServeAsync(Func<string, Task>? onCommand = null)
    {
        while (await Console.In.ReadLineAsync() is { } line)
        {
            switch (line.Trim())
            {
                case "stop":
                    return;
                case "stats":
                    Emit(new { @event = "stats", alloc = GC.GetTotalAllocatedBytes(true), gc0 = GC.CollectionCount(0), gc1 = GC.CollectionCount(1), gc2 = GC.CollectionCount(2) });
                    break;
                case var other when onCommand is not null:
                    await onCommand(other);
                    break;
            }
        }
    }
}
