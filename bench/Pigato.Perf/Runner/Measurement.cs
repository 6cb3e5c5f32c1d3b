namespace Pigato.Perf.Runner;

/// <summary>One run of one scenario on one system.</summary>
internal sealed record Measurement(
    string Scenario,
    string System,
    long Requests,
    double Seconds,
    double P50Us,
    double P99Us,
    double MaxUs,
    double BrokerCpuSeconds,
    double WorkersCpuSeconds,
    double ClientsCpuSeconds,
    long? BrokerAllocatedBytes,
    long? WorkersAllocatedBytes,
    long? ClientsAllocatedBytes,
    int? BrokerGcs,
    long Bytes,
    long Failed = 0,
    double[]? WarmUpRates = null,
    bool WarmUpSteady = true,
    double MachineIdlePercent = 0,
    double MachineStealPercent = 0)
{
    public double Rate => Seconds > 0 ? Requests / Seconds : 0;

    public double BrokerUsPerRequest => PerRequestUs(BrokerCpuSeconds);

    /// <summary>CPU µs per request over every worker process.</summary>
    public double WorkersUsPerRequest => PerRequestUs(WorkersCpuSeconds);

    /// <summary>CPU µs per request over every client process.</summary>
    public double ClientsUsPerRequest => PerRequestUs(ClientsCpuSeconds);

    private double PerRequestUs(double cpuSeconds) => Requests > 0 ? cpuSeconds * 1e6 / Requests : 0;
}
