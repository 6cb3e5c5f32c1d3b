using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>The broker's error lines: one a second per code, with a count of the rest; other codes are not held back.</summary>
public class ErrorLogTests
{
    [Fact]
    public void AThousandErrorsOfOneCodeInASecond_AreOneLine_ThenTheNextSaysHowManyWereNotLogged()
    {
        var time = new FakeTimeProvider();
        var logger = new FakeLogger();
        var log = new ErrorLog(logger, time);

        for (var i = 0; i < 1000; i++)
        {
            log.Report(PigatoErrorCodes.Unroutable, "non-reader", $"Reply for request n{i} could not reach its client.", null);
        }

        log.Report(PigatoErrorCodes.Internal, "worker-1", "Failed to handle a message.", null);
        Assert.Equal(["ERR_UNROUTABLE from non-reader: Reply for request n0 could not reach its client.", "ERR_INTERNAL from worker-1: Failed to handle a message."],
            logger.Collector.GetSnapshot().Select(r => r.Message));

        time.Advance(TimeSpan.FromSeconds(1));
        log.Report(PigatoErrorCodes.Unroutable, "non-reader", "Reply for request n1000 could not reach its client.", null);

        Assert.Equal("ERR_UNROUTABLE from non-reader: Reply for request n1000 could not reach its client. (999 more with this code not logged in the last second)", logger.Collector.LatestRecord.Message);
        Assert.Equal(3, logger.Collector.Count);
    }
}
