namespace Pigato.Persistence;

/// <summary>
/// Makes a broker's request store at every start (<see cref="BrokerOptions.Store"/>): <c>SqliteRequestStore.At(path)</c>,
/// <c>RedisRequestStore.At("host:port")</c>, or your own <see cref="IRequestStore"/>.
/// </summary>
/// <param name="description">What it makes, for logs and the dashboard: <c>sqlite:/var/lib/pigato/requests.db</c>.</param>
/// <param name="create">Makes the store, not yet opened, for one broker.</param>
public sealed class RequestStoreFactory(string description, Func<RequestStoreContext, IRequestStore> create)
{
    /// <summary>What it makes, for logs and the dashboard.</summary>
    public string Description { get; } = description;

    /// <summary>Makes the store for one broker (not yet opened).</summary>
    public IRequestStore Create(RequestStoreContext context) => create(context);

    /// <inheritdoc />
    public override string ToString() => Description;
}
