namespace Pigato.Persistence;

/// <summary>
/// Where a broker keeps its <c>persist</c> requests. Used by one thread at a time (the store's writer thread, after
/// <see cref="Open"/> on the starting thread).
/// </summary>
internal interface IRequestStore : IDisposable
{
    /// <summary>What it is, for logs and errors: <c>sqlite:/var/lib/pigato/requests.db</c>, <c>redis:10.0.0.5:6379</c>.</summary>
    string Description { get; }

    /// <summary>
    /// Opens the store and reads back what it holds for this broker (after a restart).
    /// </summary>
    /// <exception cref="PigatoException">The store is unreadable or corrupt (<c>ERR_STORE_CORRUPT</c>) or cannot be reached (<c>ERR_STORE_UNAVAILABLE</c>).</exception>
    IReadOnlyList<StoredRequest> Open();

    /// <summary>Writes the batch in one transaction; returns once it is durable. Throws when the store cannot be written.</summary>
    void Write(StoreBatch batch);

    /// <summary>
    /// Keeps this broker's claim on its requests alive and takes over those of brokers whose claim has expired; returns
    /// the requests taken over (none for a store that only one broker uses). Called about every <see cref="MaintenancePeriod"/>.
    /// </summary>
    IReadOnlyList<StoredRequest> Maintain();

    /// <summary>How often <see cref="Maintain"/> must run; <see cref="Timeout.InfiniteTimeSpan"/> for never.</summary>
    TimeSpan MaintenancePeriod { get; }
}
