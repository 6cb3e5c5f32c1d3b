using StackExchange.Redis;

namespace Pigato.Persistence;

/// <summary>
/// The shared store: brokers on several machines keep their <c>persist</c> requests in one Redis. Each broker writes
/// only under its own lease (<c>pigato:lease:{broker}</c>, renewed every third of <see cref="BrokerOptions.StoreLease"/>);
/// when a broker's lease expires, the first live broker to notice moves that broker's requests into its own hash, in one
/// Lua script (atomic in Redis), and queues them again.
/// </summary>
/// <remarks>
/// Split brain: every write is fenced by the writer's lease (a script that checks it first), so a broker cut off from
/// Redis past its lease writes nothing more, and refuses new <c>persist</c> requests until it holds a lease again. What it
/// was still handling when its requests were taken over may run twice (at least once, never lost). Durability across a
/// Redis crash is Redis's own (AOF with <c>appendfsync always</c> or <c>everysec</c>).
/// </remarks>
/// <param name="endpoint">The Redis server, <c>HOST:PORT</c>.</param>
/// <param name="brokerName">The broker whose requests it keeps (its claim).</param>
/// <param name="lease">How long the broker's claim lasts unrenewed before another broker may take its requests over.</param>
public sealed class RedisRequestStore(string endpoint, string brokerName, TimeSpan lease) : IRequestStore
{
    private const string Prefix = "pigato:";
    private const string Brokers = Prefix + "brokers";

    // KEYS: my lease, my hash. ARGV: my token, number of upserts, field/value pairs, then fields to delete.
    private const string WriteScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        local i = 3
        for _ = 1, tonumber(ARGV[2]) do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]); i = i + 2 end
        while i <= #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]); i = i + 1 end
        return 1
        """;

    // KEYS: my lease, the broker set. ARGV: my token, lease ms. 1 renewed, 2 claimed again (registered again if taken over).
    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]); return 1 end
        redis.call('SADD', KEYS[2], ARGV[1])
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 2
        """;

    // KEYS: the broker set, my lease, my hash. ARGV: my token, the key prefix. Returns the requests taken (field, value, ...).
    private const string TakeOverScript = """
        if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {} end
        local taken = {}
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if id ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. 'lease:' .. id) == 0 then
            local hash = ARGV[2] .. 'requests:' .. id
            local all = redis.call('HGETALL', hash)
            for i = 1, #all, 2 do
              redis.call('HSET', KEYS[3], all[i], all[i + 1])
              taken[#taken + 1] = all[i]
              taken[#taken + 1] = all[i + 1]
            end
            redis.call('DEL', hash)
            redis.call('SREM', KEYS[1], id)
          end
        end
        return taken
        """;

    /// <summary>A store in the Redis at <paramref name="endpoint"/> (<c>HOST:PORT</c>) for <see cref="BrokerOptions.Store"/>; brokers that share it take over each other's requests.</summary>
    /// <exception cref="ArgumentException"><paramref name="endpoint"/> is not <c>HOST:PORT</c>.</exception>
    public static RequestStoreFactory At(string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!System.Text.RegularExpressions.Regex.IsMatch(endpoint, @"^[^:\s]+:\d{1,5}$"))
        {
            throw new ArgumentException($"The Redis request store '{endpoint}' is not HOST:PORT.", nameof(endpoint));
        }

        return new RequestStoreFactory("redis:" + endpoint, context => new RedisRequestStore(endpoint, context.BrokerName, context.Lease));
    }

    private readonly RedisKey _lease = Prefix + "lease:" + brokerName;
    private readonly RedisKey _hash = Prefix + "requests:" + brokerName;
    private ConnectionMultiplexer? _redis;

    /// <inheritdoc />
    public string Description => "redis:" + endpoint;

    /// <inheritdoc />
    public TimeSpan MaintenancePeriod => lease / 3;

    /// <inheritdoc />
    public IReadOnlyList<StoredRequest> Open()
    {
        try
        {
            var options = ConfigurationOptions.Parse(endpoint);
            options.AbortOnConnectFail = false;
            options.ConnectTimeout = 2000;
            options.SyncTimeout = 2000;
            options.ClientName = "pigato-" + brokerName;
            _redis = ConnectionMultiplexer.Connect(options);
            Renew();
            // A broker starting where others died takes their requests over as soon as their leases have expired.
            return TakeOver();
        }
        catch (RedisException e)
        {
            Dispose();
            throw new PigatoException(PigatoErrorCodes.StoreUnavailable, $"The request store {Description} cannot be reached: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public void Write(StoreBatch batch)
    {
        var args = new List<RedisValue> { brokerName, 0 };
        var upserts = 0;
        foreach (var request in batch.Upserts)
        {
            args.Add(request.Rid);
            args.Add(request.Encode());
            upserts++;
        }

        args[1] = upserts;
        foreach (var rid in batch.Deletes)
        {
            args.Add(rid);
        }

        var result = (int)Database.ScriptEvaluate(WriteScript, [_lease, _hash], [.. args]);
        if (result != 1)
        {
            // The lease expired (Redis unreachable for longer than it): claim it again, then write.
            Renew();
            if ((int)Database.ScriptEvaluate(WriteScript, [_lease, _hash], [.. args]) != 1)
            {
                throw new RedisException($"The broker's lease in {Description} could not be held.");
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<StoredRequest> Maintain()
    {
        Renew();
        return TakeOver();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _redis?.Dispose();
        _redis = null;
    }

    private IDatabase Database => (_redis ?? throw new InvalidOperationException("The store is not open.")).GetDatabase();

    /// <summary>
    /// Renews the lease, or claims it again once expired (also after another broker took this one's requests over: what
    /// this broker still holds in memory then runs on here too, at least once).
    /// </summary>
    private void Renew() => Database.ScriptEvaluate(RenewScript, [_lease, Brokers], [brokerName, (long)lease.TotalMilliseconds]);

    private List<StoredRequest> TakeOver()
    {
        var taken = (RedisResult[])Database.ScriptEvaluate(TakeOverScript, [Brokers, _lease, _hash], [brokerName, Prefix])!;
        var requests = new List<StoredRequest>(taken.Length / 2);
        for (var i = 0; i + 1 < taken.Length; i += 2)
        {
            var rid = (byte[])taken[i]!;
            // A value this version cannot read is left in Redis (under this broker) rather than dropped.
            if (StoredRequest.Decode(rid, (byte[])taken[i + 1]!) is { } request)
            {
                requests.Add(request);
            }
        }

        return requests;
    }
}
