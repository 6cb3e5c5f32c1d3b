namespace Pigato.Perf.Runner;

/// <summary>
/// The whole machine's CPU time from <c>/proc/stat</c> (Linux; zero elsewhere): how idle it was during a measured phase,
/// and how much the hypervisor took (steal), which explains a slow repetition on a shared virtual machine.
/// </summary>
internal readonly record struct MachineTime(long Total, long Idle, long Steal)
{
    public static MachineTime Now()
    {
        try
        {
            // cpu  user nice system idle iowait irq softirq steal guest guest_nice (jiffies)
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
            return new MachineTime(fields.Take(8).Sum(), fields[3] + fields[4], fields[7]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return default;
        }
    }

    /// <summary>Percentages of <paramref name="after"/> minus this: idle, steal.</summary>
    public (double IdlePercent, double StealPercent) Until(MachineTime after)
    {
        var total = after.Total - Total;
        return total <= 0 ? (0, 0) : (100.0 * (after.Idle - Idle) / total, 100.0 * (after.Steal - Steal) / total);
    }
}
