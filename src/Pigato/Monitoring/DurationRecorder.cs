namespace Pigato.Monitoring;

/// <summary>The mutable side of a <see cref="DurationHistogram"/>: records on one thread, snapshots on the same.</summary>
internal sealed class DurationRecorder
{
    private readonly long[] _buckets = new long[DurationHistogram.BucketCount];
    private long _count;
    private long _sum;

    public void Record(TimeSpan duration)
    {
        var microseconds = Math.Max(0, (long)duration.TotalMicroseconds);
        _buckets[DurationHistogram.BucketOf(microseconds)]++;
        _count++;
        _sum += microseconds;
    }

    public DurationHistogram Snapshot() => new((long[])_buckets.Clone(), _count, _sum);
}
