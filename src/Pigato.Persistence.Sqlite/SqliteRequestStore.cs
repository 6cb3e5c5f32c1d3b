using Microsoft.Data.Sqlite;

namespace Pigato.Persistence;

/// <summary>
/// The embedded store: one SQLite file in WAL mode with <c>synchronous=FULL</c>, so that a batch is durable once its
/// commit returns (the WAL is fsynced). The file is locked exclusively: a second broker cannot open it.
/// </summary>
/// <param name="path">The file (made when missing).</param>
public sealed class SqliteRequestStore(string path) : IRequestStore
{
    private const string Format = "pigato-requests/1";

    private SqliteConnection? _connection;

    /// <summary>A store in the file at <paramref name="path"/> for <see cref="BrokerOptions.Store"/> (made when missing).</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    public static RequestStoreFactory At(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new RequestStoreFactory("sqlite:" + path, _ => new SqliteRequestStore(path));
    }
    private SqliteCommand? _upsert;
    private SqliteCommand? _delete;

    /// <inheritdoc />
    public string Description => "sqlite:" + path;

    /// <inheritdoc />
    public TimeSpan MaintenancePeriod => Timeout.InfiniteTimeSpan;

    /// <inheritdoc />
    public IReadOnlyList<StoredRequest> Open()
    {
        var full = Path.GetFullPath(path);
        var existed = File.Exists(full);
        if (existed && new FileInfo(full).Length == 0)
        {
            throw Corrupt(full, "the file is empty (truncated?)");
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false, DefaultTimeout = 2 }.ToString());
            _connection.Open();
            Execute("PRAGMA locking_mode=EXCLUSIVE;");
            if (existed)
            {
                var check = Scalar("PRAGMA quick_check;");
                if (check != "ok")
                {
                    throw Corrupt(full, "integrity check failed: " + check);
                }

                if (!HasTable("pigato_store") || Scalar("SELECT value FROM pigato_store WHERE key = 'format';") != Format)
                {
                    throw Corrupt(full, $"it is not a Pigato request store (no '{Format}' mark)");
                }
            }

            Execute("PRAGMA journal_mode=WAL;");
            Execute("PRAGMA synchronous=FULL;");
            // Takes the exclusive lock now: a second broker on the same file fails here, not at its first write.
            Execute($$"""
                BEGIN EXCLUSIVE;
                CREATE TABLE IF NOT EXISTS pigato_store (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                INSERT OR IGNORE INTO pigato_store (key, value) VALUES ('format', '{{Format}}');
                CREATE TABLE IF NOT EXISTS requests (rid BLOB PRIMARY KEY, client BLOB NOT NULL, service TEXT NOT NULL, data BLOB NOT NULL, options BLOB NOT NULL, stored_at INTEGER NOT NULL) WITHOUT ROWID;
                COMMIT;
                """);
            _upsert = Command("INSERT OR REPLACE INTO requests (rid, client, service, data, options, stored_at) VALUES ($rid, $client, $service, $data, $options, $stored_at);", "$rid", "$client", "$service", "$data", "$options", "$stored_at");
            _delete = Command("DELETE FROM requests WHERE rid = $rid;", "$rid");
            return ReadAll();
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException or PigatoException)
        {
            Dispose();
            throw Explain(full, e);
        }
    }

    /// <inheritdoc />
    public void Write(StoreBatch batch)
    {
        var connection = _connection ?? throw new InvalidOperationException("The store is not open.");
        using var transaction = connection.BeginTransaction();
        _upsert!.Transaction = transaction;
        _delete!.Transaction = transaction;
        foreach (var rid in batch.Deletes)
        {
            _delete.Parameters[0].Value = rid;
            _delete.ExecuteNonQuery();
        }

        foreach (var request in batch.Upserts)
        {
            var parameters = _upsert.Parameters;
            parameters[0].Value = request.Rid;
            parameters[1].Value = request.ClientId;
            parameters[2].Value = request.Service;
            parameters[3].Value = request.Data;
            parameters[4].Value = request.Options;
            parameters[5].Value = request.StoredAt;
            _upsert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredRequest> Maintain() => [];

    /// <inheritdoc />
    public void Dispose()
    {
        _upsert?.Dispose();
        _delete?.Dispose();
        _connection?.Dispose();
        (_upsert, _delete, _connection) = (null, null, null);
    }

    private List<StoredRequest> ReadAll()
    {
        var all = new List<StoredRequest>();
        using var select = _connection!.CreateCommand();
        select.CommandText = "SELECT rid, client, service, data, options, stored_at FROM requests;";
        using var reader = select.ExecuteReader();
        while (reader.Read())
        {
            all.Add(new StoredRequest((byte[])reader[0], (byte[])reader[1], reader.GetString(2), (byte[])reader[3], (byte[])reader[4], reader.GetInt64(5)));
        }

        return all;
    }

    private bool HasTable(string name)
    {
        using var command = _connection!.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $name;";
        command.Parameters.AddWithValue("$name", name);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    private void Execute(string sql)
    {
        using var command = _connection!.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private string? Scalar(string sql)
    {
        using var command = _connection!.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()?.ToString();
    }

    private SqliteCommand Command(string sql, params string[] parameters)
    {
        var command = _connection!.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }

    /// <summary>Why the store could not be opened, for people: in use by another broker, unreadable, or not there.</summary>
    private static PigatoException Explain(string file, Exception e) => e switch
    {
        PigatoException pigato => pigato,
        SqliteException { SqliteErrorCode: 5 or 6 } busy => new(PigatoErrorCodes.StoreUnavailable, $"The request store {file} is in use by another process (SQLite: {busy.Message}); two brokers cannot share one SQLite store (use Redis for that).", busy),
        SqliteException sqlite => Corrupt(file, sqlite.Message, sqlite),
        _ => new(PigatoErrorCodes.StoreUnavailable, $"The request store {file} cannot be opened: {e.Message}", e),
    };

    private static PigatoException Corrupt(string file, string why, Exception? inner = null) =>
        new(PigatoErrorCodes.StoreCorrupt, $"The request store {file} is unreadable or corrupt: {why}. The broker does not start on it: restore the file, or move it away to start with an empty store.", inner);
}
