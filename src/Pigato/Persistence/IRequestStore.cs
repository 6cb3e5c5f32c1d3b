namespace Pigato.Persistence;

/// <summary>
/// Where a broker keeps its <c>persist</c> requests (packages <c>Pigato.Persistence.Sqlite</c> and
/// <c>Pigato.Persistence.Redis</c>, or your own). The broker calls it from one thread at a time: <see cref="Open"/> on the
/// starting thread, everything else on the store's writer thread.
/// </summary>
/// <remarks>
/// The contract the broker relies on: a request is durable once the <see cref="Write"/> that holds it has returned; a
/// request removed by a returned <see cref="Write"/> is never read back; <see cref="Open"/> returns every request stored and
/// not removed, for this broker (a shared store keeps each broker's requests apart, see <see cref="RequestStoreContext"/>).
/// Errors are <see cref="PigatoException"/>s with <see cref="PigatoErrorCodes.StoreCorrupt"/> (unreadable: the broker does
/// not start) or <see cref="PigatoErrorCodes.StoreUnavailable"/> (the broker retries the write, and refuses new
/// <c>persist</c> requests meanwhile).
/// </remarks>
public interface IRequestStore : IDisposable
{
    /// <summary>What it is, for logs and errors: <c>sqlite:/var/lib/pigato/requests.db</c>, <c>redis:10.0.0.5:6379</c>.</summary>
    string Description { get; }

    /// <summary>How often <see cref="Maintain"/> must run; <see cref="Timeout.InfiniteTimeSpan"/> for never.</summary>
    TimeSpan MaintenancePeriod { get; }

    /// <summary>Opens the store and reads back what it holds for this broker (after a restart).</summary>
    /// <exception cref="PigatoException">The store is unreadable or corrupt (<c>ERR_STORE_CORRUPT</c>) or cannot be reached (<c>ERR_STORE_UNAVAILABLE</c>).</exception>
    IReadOnlyList<StoredRequest> Open();

    /// <summary>Writes the batch in one transaction; returns once it is durable. Throws when the store cannot be written.</summary>
    void Write(StoreBatch batch);

    /// <summary>
    /// Keeps this broker's claim on its requests alive and takes over those of brokers whose claim has expired; returns
    /// the requests taken over (none for a store that only one broker uses). Called about every <see cref="MaintenancePeriod"/>.
    /// </summary>
    IReadOnlyList<StoredRequest> Maintain();
}
