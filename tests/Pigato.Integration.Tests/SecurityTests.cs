using System.Text;
using Pigato.TestUtilities;
using Pigato.Security;

namespace Pigato.Integration.Tests;

/// <summary>CURVE encryption on every socket, key files, and a clear error for a wrong server key.</summary>
public class SecurityTests
{
    private static readonly (string Public, string Secret) BrokerKeys = CurveKeys.Generate();

    [Fact]
    public async Task WithCurve_RequestsPartialsErrorsAndTheDirectoryWork()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { CurveSecretKey = BrokerKeys.Secret, EnableDirectory = true });
        var worker = await harness.StartWorkerAsync("echo", async (d, r, _) =>
        {
            if (d.GetString() == "fail")
            {
                await r.ErrorAsync("nope");
                return;
            }

            await r.WriteAsync("part");
            await r.EndAsync(d);
        }, o => o with { CurveServerKey = BrokerKeys.Public });
        var client = await harness.StartClientAsync(o => o with { CurveServerKey = BrokerKeys.Public });

        var replies = new List<string?>();
        await foreach (var reply in client.RequestStreamAsync<string>("echo", "hello", cancellationToken: Bounded.Token()))
        {
            replies.Add(reply.Data);
        }

        Assert.Equal(["part", "hello"], replies);
        var error = await Assert.ThrowsAsync<PigatoReplyException>(() => client.RequestAsync<string>("echo", "fail", cancellationToken: Bounded.Token()).AsTask());
        Assert.Equal("nope", error.Code);
        Assert.Equal([worker.Id!], (await client.RequestAsync<string[]>(DirectoryService.ServiceName, "echo", cancellationToken: Bounded.Token()))!);
    }

    [Fact]
    public async Task WrongServerKey_FailsWithAHandshakeErrorNamingTheEndpoint_NotASilentHang()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { CurveSecretKey = BrokerKeys.Secret });
        var errors = new List<PigatoErrorEventArgs>();
        var client = new Client(new ClientOptions { Endpoint = harness.Endpoint, CurveServerKey = CurveKeys.Generate().PublicKey, HeartbeatInterval = TimeSpan.FromMilliseconds(200) });
        client.Error += (_, e) => errors.Add(e);
        await using var _ = client;
        await client.StartAsync();

        var error = await Assert.ThrowsAsync<PigatoException>(() => client.RequestAsync<string>("echo", "x", new RequestOptions { Timeout = TimeSpan.FromMinutes(5) }).AsTask().WithinAsync("the handshake error"));

        Assert.Equal(PigatoErrorCodes.Handshake, error.Code);
        Assert.Contains(harness.Endpoint, error.Message, StringComparison.Ordinal);
        Assert.Contains("CURVE server key", error.Message, StringComparison.Ordinal);
        Assert.Contains(errors, e => e.Code == PigatoErrorCodes.Handshake);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnEavesdropperOnTheWire_SeesNoPayload_OnlyWhenCurveIsOn(bool curve)
    {
        const string Secret = "the-payload-nobody-else-may-read-4711";
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { CurveSecretKey = curve ? BrokerKeys.Secret : null });
        await harness.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d), o => o with { CurveServerKey = curve ? BrokerKeys.Public : null });
        await using var relay = new TcpRelay(harness.Endpoint);
        var client = await harness.StartClientAsync(o => o with { Endpoint = relay.Endpoint, CurveServerKey = curve ? BrokerKeys.Public : null });

        Assert.Equal(Secret, await client.RequestAsync<string>("echo", Secret, cancellationToken: Bounded.Token()));

        var seen = Encoding.ASCII.GetString(relay.Seen());
        Assert.True(seen.Length > 0);
        Assert.Equal(!curve, seen.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public void KeyFiles_RoundTrip_TheSecretOneReadableByItsOwnerOnly()
    {
        var path = Path.Combine(Path.GetTempPath(), "pigato-key-" + Guid.NewGuid().ToString("N"));
        try
        {
            var publicKey = CurveKeys.WriteKeyPair(path);

            Assert.Equal(publicKey, CurveKeys.ReadPublicKey(path + ".key"));
            Assert.Equal(publicKey, CurveKeys.PublicKeyOf(CurveKeys.ReadSecretKey(path + ".key_secret")));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path + ".key_secret"));
            }

            var missing = Assert.Throws<PigatoException>(() => CurveKeys.ReadSecretKey(path + ".key"));
            Assert.Equal(PigatoErrorCodes.CurveKey, missing.Code);
        }
        finally
        {
            File.Delete(path + ".key");
            File.Delete(path + ".key_secret");
        }
    }
}

/// <summary>Authentication and per-service permissions through real sockets, inside CURVE.</summary>
public class PermissionsTests
{
    private static readonly (string Public, string Secret) BrokerKeys = CurveKeys.Generate();

    [Fact]
    public async Task Principals_AreServedWhereAllowed_ForbiddenElsewhere_AndARevocationTakesEffectWithinAHeartbeat()
    {
        var (apiToken, apiHash) = Permissions.NewToken();
        var (workerToken, workerHash) = Permissions.NewToken();
        string Rules(bool mayServe) => $$"""
            { "principals": {
                "api": { "tokenHash": "{{apiHash}}", "request": ["billing*"] },
                "billing-worker": { "tokenHash": "{{workerHash}}", "serve": {{(mayServe ? "[\"billing*\"]" : "[]")}} } } }
            """;
        var file = Path.Combine(Path.GetTempPath(), "pigato-permissions-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(file, Rules(mayServe: true));
        try
        {
            await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { CurveSecretKey = BrokerKeys.Secret, PermissionsFile = file, HeartbeatInterval = TimeSpan.FromMilliseconds(200) });
            var worker = await harness.StartWorkerAsync("billing", (d, r, _) => r.EndAsync(d), o => o with { CurveServerKey = BrokerKeys.Public, Credential = new PigatoCredential("billing-worker", workerToken) });
            var workerErrors = new System.Collections.Concurrent.ConcurrentQueue<PigatoErrorEventArgs>();
            worker.Error += (_, e) => workerErrors.Enqueue(e);
            await using var intruder = new Worker(harness.WorkerOptions("billing") with { CurveServerKey = BrokerKeys.Public }, (d, r, _) => r.EndAsync("stolen"));
            await intruder.StartAsync();
            var api = await harness.StartClientAsync(o => o with { CurveServerKey = BrokerKeys.Public, Credential = new PigatoCredential("api", apiToken) });
            var anonymous = await harness.StartClientAsync(o => o with { CurveServerKey = BrokerKeys.Public });

            Assert.Equal("paid", await api.RequestAsync<string>("billing", "paid", cancellationToken: Bounded.Token()));
            var forbidden = await Assert.ThrowsAsync<PigatoBrokerException>(() => api.RequestAsync<string>("admin", null, cancellationToken: Bounded.Token()).AsTask());
            Assert.Equal(PigatoErrorCodes.Forbidden, forbidden.Code);
            var unauthenticated = await Assert.ThrowsAsync<PigatoBrokerException>(() => anonymous.RequestAsync<string>("billing", null, cancellationToken: Bounded.Token()).AsTask());
            Assert.Equal(PigatoErrorCodes.Unauthenticated, unauthenticated.Code);
            Assert.Equal(1, (await harness.Broker.GetStatsAsync()).Workers);
            Assert.Contains(harness.BrokerLog.Lines, line => line.Contains(PigatoErrorCodes.Unauthenticated, StringComparison.Ordinal) && line.Contains("READY", StringComparison.Ordinal));

            await File.WriteAllTextAsync(file, Rules(mayServe: false));

            await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).Workers == 0, "the revoked worker is disconnected");
            Assert.Contains(harness.BrokerLog.Lines, line => line.Contains("revoked", StringComparison.Ordinal));

            // It registers again at once, is refused, and tells its own operator why.
            await Bounded.UntilAsync(() => workerErrors.Any(e => e.Code == PigatoErrorCodes.Unauthenticated && e.Message.Contains("refused the registration", StringComparison.Ordinal)), "the revoked worker to report its refusal");
            Assert.Equal(0, (await harness.Broker.GetStatsAsync()).Workers);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Directory_ListsOnlyTheServicesTheRequesterMayRequest()
    {
        var (apiToken, apiHash) = Permissions.NewToken();
        var permissions = Permissions.Parse($$"""
            { "principals": {
                "api": { "tokenHash": "{{apiHash}}", "request": ["billing*", "$dir"] },
                "anonymous": { "request": ["$dir"], "serve": ["billing", "secret"] } } }
            """);
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { CurveSecretKey = BrokerKeys.Secret, Permissions = permissions, EnableDirectory = true });
        var billing = await harness.StartWorkerAsync("billing", (d, r, _) => r.EndAsync(d), o => o with { CurveServerKey = BrokerKeys.Public });
        await harness.StartWorkerAsync("secret", (d, r, _) => r.EndAsync(d), o => o with { CurveServerKey = BrokerKeys.Public });
        var api = await harness.StartClientAsync(o => o with { CurveServerKey = BrokerKeys.Public, Credential = new PigatoCredential("api", apiToken) });
        var anonymous = await harness.StartClientAsync(o => o with { CurveServerKey = BrokerKeys.Public });

        var seenByApi = await api.RequestAsync<Dictionary<string, string[]>>(DirectoryService.ServiceName, null, cancellationToken: Bounded.Token());
        var seenByAnonymous = await anonymous.RequestAsync<Dictionary<string, string[]>>(DirectoryService.ServiceName, null, cancellationToken: Bounded.Token());

        Assert.Equal(["billing"], seenByApi!.Keys);
        Assert.Equal([billing.Id!], seenByApi["billing"]);
        Assert.Empty(seenByAnonymous!);
        Assert.Empty((await anonymous.RequestAsync<string[]>(DirectoryService.ServiceName, "secret", cancellationToken: Bounded.Token()))!);
    }

    [Fact]
    public async Task ABrokenPermissionsFile_StopsTheBrokerAtStart_NamingTheFile()
    {
        var file = Path.Combine(Path.GetTempPath(), "pigato-permissions-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(file, "{ not json");
        try
        {
            await using var broker = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", InternalEndpoint = null, CurveSecretKey = BrokerKeys.Secret, PermissionsFile = file });

            var error = await Assert.ThrowsAsync<PigatoException>(() => broker.StartAsync());

            Assert.Equal(PigatoErrorCodes.PermissionsInvalid, error.Code);
            Assert.Contains(file, error.Message, StringComparison.Ordinal);
            Assert.False(broker.IsRunning);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task RefusedWorker_SaysWhy_AndBacksOffExponentially()
    {
        var permissions = Permissions.Parse("""{ "principals": { "anonymous": { "request": ["*"], "serve": ["echo"] } } }""");
        await using var broker = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", InternalEndpoint = null, Permissions = permissions, AllowInsecureAuthenticationWithoutEncryption = true });
        await broker.StartAsync();
        var refusals = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var worker = new Worker(new WorkerOptions { Endpoint = broker.Endpoint!, Service = "billing", ReconnectDelay = TimeSpan.FromMilliseconds(50) }, (d, r, _) => r.EndAsync(d));
        worker.Error += (_, e) =>
        {
            if (e.Code == PigatoErrorCodes.Unauthenticated)
            {
                refusals.Enqueue(e.Message);
            }
        };
        await worker.StartAsync();

        await Bounded.UntilAsync(() => refusals.Count >= 3, "three refusals");

        var messages = refusals.Take(3).ToList();
        Assert.All(messages, m => Assert.Contains("refused the registration of 'billing'", m, StringComparison.Ordinal));
        Assert.Contains("(1 in a row)", messages[0], StringComparison.Ordinal);
        Assert.Contains("(3 in a row)", messages[2], StringComparison.Ordinal);
        var delays = messages.Select(m => double.Parse(System.Text.RegularExpressions.Regex.Match(m, @"again in ([0-9.]+) s").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(delays[2] > delays[0], $"delays {string.Join(", ", delays)} grow");
    }

    [Fact]
    public async Task PlainClient_AgainstACurveBroker_ARequestSentAfterTheHandshakeFailedFailsAtOnce()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { CurveSecretKey = BrokerKeys.Secret });
        await using var client = new Client(new ClientOptions { Endpoint = harness.Endpoint, HeartbeatInterval = TimeSpan.FromSeconds(20) });
        var errors = new System.Collections.Concurrent.ConcurrentQueue<PigatoErrorEventArgs>();
        client.Error += (_, e) => errors.Enqueue(e);
        await client.StartAsync();
        await Bounded.UntilAsync(() => errors.Any(e => e.Code == PigatoErrorCodes.Handshake), "the client's handshake error");

        // Not queued behind a connection that will never answer until its 5-minute timeout.
        var error = await Assert.ThrowsAsync<PigatoException>(() => client.RequestAsync<string>("echo", "x", new RequestOptions { Timeout = TimeSpan.FromMinutes(5) }).AsTask().WithinAsync("the request's handshake error"));
        Assert.Equal(PigatoErrorCodes.Handshake, error.Code);
        Assert.Contains(harness.Endpoint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlainClientAndWorker_AgainstACurveBroker_GetAHandshakeErrorNamingTheEndpoint_BeforeTheirLiveness()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { CurveSecretKey = BrokerKeys.Secret });

        // Liveness far away (60 s): what answers is the handshake check, not the silence.
        await using var client = new Client(new ClientOptions { Endpoint = harness.Endpoint, HeartbeatInterval = TimeSpan.FromSeconds(20) });
        await client.StartAsync();
        var error = await Assert.ThrowsAsync<PigatoException>(() => client.RequestAsync<string>("echo", "x", new RequestOptions { Timeout = TimeSpan.FromMinutes(5) }).AsTask().WithinAsync("the client's handshake error"));
        Assert.Equal(PigatoErrorCodes.Handshake, error.Code);
        Assert.Contains(harness.Endpoint, error.Message, StringComparison.Ordinal);

        var workerErrors = new System.Collections.Concurrent.ConcurrentQueue<PigatoErrorEventArgs>();
        await using var worker = new Worker(new WorkerOptions { Endpoint = harness.Endpoint, Service = "echo", HeartbeatInterval = TimeSpan.FromSeconds(20) }, (d, r, _) => r.EndAsync(d));
        worker.Error += (_, e) => workerErrors.Enqueue(e);
        await worker.StartAsync();
        await Bounded.UntilAsync(() => workerErrors.Any(e => e.Code == PigatoErrorCodes.Handshake), "the worker's handshake error");
        Assert.Contains(workerErrors, e => e.Message.Contains(harness.Endpoint, StringComparison.Ordinal));
    }
}
