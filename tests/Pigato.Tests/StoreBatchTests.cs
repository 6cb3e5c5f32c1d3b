using System.Text;
using Pigato.Persistence;
using Xunit;

namespace Pigato.Tests;

/// <summary>How changes to the store coalesce before they are written, and the record format of the shared store.</summary>
public sealed class StoreBatchTests
{
    private static StoredRequest Request(string rid) => new(Encoding.UTF8.GetBytes(rid), "c"u8.ToArray(), "echo", "1"u8.ToArray(), "{}"u8.ToArray(), 42);

    private static string Describe(StoreBatch batch) =>
        string.Join(" ", batch.Upserts.Select(r => "+" + Encoding.UTF8.GetString(r.Rid)).Concat(batch.Deletes.Select(r => "-" + Encoding.UTF8.GetString(r))).Order(StringComparer.Ordinal));

    [Fact]
    public void StoredThenRemovedBeforeAWrite_CancelsOut()
    {
        var batch = new StoreBatch();
        batch.Store("a", Request("a"));
        batch.Store("b", Request("b"));
        batch.Remove("a", "a"u8.ToArray());
        Assert.Equal("+b", Describe(batch));
    }

    [Fact]
    public void RemovedThenStoredAgain_IsAnUpsert_AndRemovedOnceMore_IsADelete()
    {
        var batch = new StoreBatch();
        batch.Remove("a", "a"u8.ToArray());
        batch.Store("a", Request("a"));
        Assert.Equal("+a", Describe(batch));
        batch.Remove("a", "a"u8.ToArray());
        Assert.Equal("-a", Describe(batch));
    }

    [Fact]
    public void AnUpdate_OfARecordAlreadyWritten_IsAnUpsert_AndItsRemovalIsWrittenAsADelete()
    {
        var batch = new StoreBatch();
        batch.Update("a", Request("a"));
        Assert.Equal("+a", Describe(batch));
        batch.Remove("a", "a"u8.ToArray());
        Assert.Equal("-a", Describe(batch));
    }

    [Fact]
    public void AnUpdate_OfARecordNotWrittenYet_StillCancelsOutWithItsRemoval()
    {
        var batch = new StoreBatch();
        batch.Store("a", Request("a"));
        batch.Update("a", Request("a"));
        batch.Remove("a", "a"u8.ToArray());
        Assert.True(batch.IsEmpty);
    }

    [Fact]
    public void Absorb_AppliesTheLaterBatchAfterThisOne()
    {
        var earlier = new StoreBatch();
        earlier.Store("a", Request("a"));
        earlier.Remove("old", "old"u8.ToArray());
        var later = new StoreBatch();
        later.Remove("a", "a"u8.ToArray());
        later.Store("old", Request("old"));
        later.Store("c", Request("c"));

        earlier.Absorb(later);

        Assert.Equal("+c +old", Describe(earlier));
        Assert.True(later.IsEmpty);
    }

    [Fact]
    public void Record_RoundTrips_AndGarbageIsNoRecord()
    {
        var request = new StoredRequest("rid"u8.ToArray(), "client"u8.ToArray(), "svc@1.0.0", "\"data\""u8.ToArray(), """{"persist":true}"""u8.ToArray(), 1_700_000_000_123);
        var decoded = StoredRequest.Decode(request.Rid, request.Encode());

        Assert.NotNull(decoded);
        Assert.Equal(request.Service, decoded.Service);
        Assert.Equal(request.ClientId, decoded.ClientId);
        Assert.Equal(request.Data, decoded.Data);
        Assert.Equal(request.Options, decoded.Options);
        Assert.Equal(request.StoredAt, decoded.StoredAt);
        Assert.Null(StoredRequest.Decode(request.Rid, "garbage that is long enough to look like one"u8));
        Assert.Null(StoredRequest.Decode(request.Rid, request.Encode().AsSpan(0, 20)));
    }

    /// <summary>Found by fuzzing (tests/Pigato.Fuzz/regressions): a field length near int.MaxValue wrapped around the bounds check.</summary>
    [Fact]
    public void Record_WithAFieldLengthNearIntMax_IsNoRecord_NotAnException()
    {
        var record = new StoredRequest("rid"u8.ToArray(), "client"u8.ToArray(), "echo", "1"u8.ToArray(), "{}"u8.ToArray(), 1).Encode();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(1), int.MaxValue);

        Assert.Null(StoredRequest.Decode("rid"u8.ToArray(), record));
    }
}
