using System.Text;
using Pigato.Internal;

namespace Pigato.Tests.Internal;

/// <summary>Request ids: version 4 uuids in PIGATO's form (UTF-8), distinct across refills of the random buffer and across threads.</summary>
public class RequestIdsTests
{
    [Fact]
    public void Ids_AreVersion4Uuids_InTheirLowerCaseHyphenatedForm()
    {
        for (var i = 0; i < 600; i++)
        {
            var frame = RequestIds.Next();
            var id = Encoding.UTF8.GetString(frame);

            Assert.Equal(36, frame.Length);
            Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", id);
            Assert.Equal(4, Guid.Parse(id).Version);
        }
    }

    [Fact]
    public async Task Ids_AreDistinct_AcrossRefillsAndThreads()
    {
        const int PerThread = 5_000; // about 20 refills of each thread's buffer
        var batches = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            Enumerable.Range(0, PerThread).Select(_ => Encoding.UTF8.GetString(RequestIds.Next())).ToList())));

        var all = batches.SelectMany(b => b).ToList();
        Assert.Equal(all.Count, all.Distinct(StringComparer.Ordinal).Count());
    }
}
