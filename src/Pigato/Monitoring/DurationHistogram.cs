namespace Pigato.Monitoring;

/// <summary>
/// Durations counted in logarithmic buckets (two per power of two, from 1 µs to over an hour): percentiles within
/// about 20 %, in constant memory. Snapshots are immutable; <see cref="Since"/> gives the durations of an interval.
/// </summary>
public sealed class DurationHistogram
{
    /// <summary>How many buckets a histogram has.</summary>
    public const int BucketCount = 64;

    private readonly long[] _buckets;

    /// <summary>A histogram with no durations.</summary>
    public static DurationHistogram Empty { get; } = new(new long[BucketCount], 0, 0);

    internal DurationHistogram(long[] buckets, long count, long sumMicroseconds)
    {
        _buckets = buckets;
        Count = count;
        SumMicroseconds = sumMicroseconds;
    }

    /// <summary>Durations counted.</summary>
    public long Count { get; }

    /// <summary>Their sum in microseconds.</summary>
    public long SumMicroseconds { get; }

    /// <summary>The count of each bucket; bucket <c>i</c> holds durations up to <see cref="UpperBound"/>(i).</summary>
    public IReadOnlyList<long> Buckets => _buckets;

    /// <summary>The mean duration, or zero when empty.</summary>
    public TimeSpan Mean => Count == 0 ? TimeSpan.Zero : TimeSpan.FromMicroseconds((double)SumMicroseconds / Count);

    /// <summary>The duration under which <paramref name="quantile"/> (0 to 1) of the durations fall (a bucket's upper bound); zero when empty.</summary>
    public TimeSpan Percentile(double quantile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quantile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quantile, 1);
        if (Count == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(quantile * Count));
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += _buckets[i];
            if (seen >= rank)
            {
                return TimeSpan.FromMicroseconds(UpperBound(i));
            }
        }

        return TimeSpan.FromMicroseconds(UpperBound(_buckets.Length - 1));
    }

    /// <summary>The durations counted since <paramref name="earlier"/>, a snapshot of the same histogram.</summary>
    public DurationHistogram Since(DurationHistogram earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        var buckets = new long[BucketCount];
        for (var i = 0; i < BucketCount; i++)
        {
            buckets[i] = Math.Max(0, _buckets[i] - earlier._buckets[i]);
        }

        return new DurationHistogram(buckets, Math.Max(0, Count - earlier.Count), Math.Max(0, SumMicroseconds - earlier.SumMicroseconds));
    }

    /// <summary>The largest duration bucket <paramref name="index"/> holds, in microseconds.</summary>
    public static double UpperBound(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, BucketCount);
        var octave = index / 2;
        return index % 2 == 0 ? Math.Pow(2, octave) * 1.5 : Math.Pow(2, octave + 1);
    }

    /// <summary>The bucket a duration of <paramref name="microseconds"/> falls in.</summary>
    internal static int BucketOf(long microseconds)
    {
        if (microseconds <= 1)
        {
            return 0;
        }

        var octave = 63 - (int)long.LeadingZeroCount(microseconds);
        var upperHalf = octave > 0 && ((microseconds >> (octave - 1)) & 1) == 1;
        var index = (octave * 2) + (upperHalf ? 1 : 0);
        return Math.Min(index, BucketCount - 1);
    }
}
