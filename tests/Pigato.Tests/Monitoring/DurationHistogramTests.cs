using Pigato.Monitoring;

namespace Pigato.Tests.Monitoring;

public class DurationHistogramTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(4, 4)]
    [InlineData(5, 4)]
    [InlineData(6, 5)]
    [InlineData(1000, 19)]
    [InlineData(long.MaxValue, DurationHistogram.BucketCount - 1)]
    public void BucketOf_TwoBucketsPerPowerOfTwo(long microseconds, int bucket) =>
        Assert.Equal(bucket, DurationHistogram.BucketOf(microseconds));

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(999)]
    [InlineData(123_456)]
    [InlineData(3_600_000_000)]
    public void EveryDuration_FallsUnderItsBucketsUpperBound_AndAboveThePreviousOne(long microseconds)
    {
        var bucket = DurationHistogram.BucketOf(microseconds);
        Assert.True(microseconds <= DurationHistogram.UpperBound(bucket));
        if (bucket > 0)
        {
            Assert.True(microseconds >= DurationHistogram.UpperBound(bucket - 1));
        }
    }

    [Fact]
    public void Percentiles_AreWithinOneBucketOfTheTruth()
    {
        var recorder = new DurationRecorder();
        for (var ms = 1; ms <= 100; ms++)
        {
            recorder.Record(TimeSpan.FromMilliseconds(ms));
        }

        var histogram = recorder.Snapshot();
        Assert.Equal(100, histogram.Count);
        Assert.Equal(50.5, histogram.Mean.TotalMilliseconds, 3);
        Assert.InRange(histogram.Percentile(0.5).TotalMilliseconds, 50, 50 * 1.34);
        Assert.InRange(histogram.Percentile(0.99).TotalMilliseconds, 99, 99 * 1.34);
        Assert.InRange(histogram.Percentile(1).TotalMilliseconds, 100, 100 * 1.34);
    }

    [Fact]
    public void Since_GivesTheDurationsOfTheInterval()
    {
        var recorder = new DurationRecorder();
        recorder.Record(TimeSpan.FromSeconds(10));
        var before = recorder.Snapshot();
        recorder.Record(TimeSpan.FromMilliseconds(1));
        recorder.Record(TimeSpan.FromMilliseconds(1));

        var interval = recorder.Snapshot().Since(before);

        Assert.Equal(2, interval.Count);
        Assert.InRange(interval.Percentile(0.99).TotalMilliseconds, 1, 1.34);
        Assert.Equal(1, before.Count);
    }

    [Fact]
    public void Empty_HasNoDurations_AndRefusesQuantilesOutOfRange()
    {
        Assert.Equal(TimeSpan.Zero, DurationHistogram.Empty.Percentile(0.99));
        Assert.Equal(TimeSpan.Zero, DurationHistogram.Empty.Mean);
        Assert.Throws<ArgumentOutOfRangeException>(() => DurationHistogram.Empty.Percentile(1.5));
    }
}
