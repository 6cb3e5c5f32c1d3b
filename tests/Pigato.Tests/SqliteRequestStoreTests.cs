using System.Text;
using Pigato.Persistence;
using Xunit;

namespace Pigato.Tests;

/// <summary>The embedded store on a real file: what is written is read back; a damaged or shared file stops the start with a clear error.</summary>
public sealed class SqliteRequestStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pigato-store-").FullName;

    private string PathOf(string name) => Path.Combine(_directory, name);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static StoredRequest Request(string rid) => new(Encoding.UTF8.GetBytes(rid), "client-1"u8.ToArray(), "echo", "\"hello\""u8.ToArray(), """{"persist":true}"""u8.ToArray(), 1_700_000_000_000);

    private static StoreBatch Batch(IEnumerable<string> stored, IEnumerable<string> removed)
    {
        var batch = new StoreBatch();
        foreach (var rid in removed)
        {
            batch.Remove(rid, Encoding.UTF8.GetBytes(rid));
        }

        foreach (var rid in stored)
        {
            batch.Store(rid, Request(rid));
        }

        return batch;
    }

    [Fact]
    public void WhatIsWritten_IsReadBackAfterAReopen()
    {
        var path = PathOf("requests.db");
        using (var store = new SqliteRequestStore(path))
        {
            Assert.Empty(store.Open());
            store.Write(Batch(["a", "b", "c"], []));
            store.Write(Batch([], ["b"]));
        }

        using var reopened = new SqliteRequestStore(path);
        var requests = reopened.Open();
        Assert.Equal(["a", "c"], requests.Select(r => Encoding.UTF8.GetString(r.Rid)).Order(StringComparer.Ordinal));
        var a = requests[0];
        Assert.Equal("echo", a.Service);
        Assert.Equal("client-1"u8.ToArray(), a.ClientId);
        Assert.Equal("\"hello\""u8.ToArray(), a.Data);
        Assert.Equal(1_700_000_000_000, a.StoredAt);
    }

    [Fact]
    public void AFileOfGarbage_StopsTheStart_NamingTheFile()
    {
        var path = PathOf("garbage.db");
        File.WriteAllBytes(path, Enumerable.Range(0, 8192).Select(i => (byte)(i * 31)).ToArray());
        using var store = new SqliteRequestStore(path);
        var e = Assert.Throws<PigatoException>(() => store.Open());
        Assert.Equal(PigatoErrorCodes.StoreCorrupt, e.Code);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void ATruncatedFile_StopsTheStart_NamingTheFile(int keepPages)
    {
        var path = PathOf("truncated.db");
        using (var store = new SqliteRequestStore(path))
        {
            store.Open();
            store.Write(Batch(Enumerable.Range(0, 2000).Select(i => "rid-" + i), []));
        }

        using (var file = new FileStream(path, FileMode.Open))
        {
            Assert.True(file.Length > 8 * 4096, "the store should span many pages");
            file.SetLength(keepPages * 4096);
        }

        using var reopened = new SqliteRequestStore(path);
        var e = Assert.Throws<PigatoException>(() => reopened.Open());
        Assert.Equal(PigatoErrorCodes.StoreCorrupt, e.Code);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnotherSqliteDatabase_IsNotTakenForAStore()
    {
        var path = PathOf("foreign.db");
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);";
            command.ExecuteNonQuery();
        }

        using var store = new SqliteRequestStore(path);
        var e = Assert.Throws<PigatoException>(() => store.Open());
        Assert.Equal(PigatoErrorCodes.StoreCorrupt, e.Code);
        Assert.Contains("not a Pigato request store", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASecondBrokerOnTheSameFile_IsRefused()
    {
        var path = PathOf("shared.db");
        using var first = new SqliteRequestStore(path);
        first.Open();
        using var second = new SqliteRequestStore(path);
        var e = Assert.Throws<PigatoException>(() => second.Open());
        Assert.Equal(PigatoErrorCodes.StoreUnavailable, e.Code);
        Assert.Contains("in use", e.Message, StringComparison.Ordinal);
    }
}
