using Pigato.Routing;
using Pigato.Security;

namespace Pigato.Tests.Routing;

/// <summary>Authentication and permissions in the broker core.</summary>
public class AuthorizationTests
{
    private static readonly (string Token, string Hash) Api = Permissions.NewToken();
    private static readonly (string Token, string Hash) Billing = Permissions.NewToken();

    private static Permissions Rules(bool billingMayServe = true) => Permissions.Parse($$"""
        {
          "principals": {
            "api": { "tokenHash": "{{Api.Hash}}", "request": ["billing*", "report"] },
            "billing": { "tokenHash": "{{Billing.Hash}}", "serve": {{(billingMayServe ? "[\"billing*\"]" : "[]")}} },
            "anonymous": { "request": ["echo"], "serve": ["echo"] }
          }
        }
        """);

    private static CoreHarness Harness() => new(new BrokerOptions { Permissions = Rules(), AllowInsecureAuthenticationWithoutEncryption = true });

    [Theory]
    [InlineData("billing", "billing", true)]
    [InlineData("billing*", "billing.refund", true)]
    [InlineData("report", "report@1.2.3", true)]
    [InlineData("report", "report@^1", true)]
    [InlineData("report", "reports", false)]
    [InlineData("*", "anything", true)]
    public void Patterns_UnderstandWildcardsAndVersions(string pattern, string service, bool allowed) =>
        Assert.Equal(allowed, Permissions.Allows([pattern], service));

    [Fact]
    public void Requests_AnonymousOnlyWhereAllowed_AuthenticatedByItsPermissions()
    {
        var h = Harness();
        h.Request("stranger", "echo", "r1");
        h.Request("stranger", "billing", "r2");
        h.Hello("app", "api", Api.Token);
        h.Request("app", "billing.refund", "r3");
        h.Request("app", "admin", "r4");
        h.Hello("liar", "api", "guessed");
        h.Request("liar", "billing", "r5");

        Assert.Equal([$"error stranger r2 {PigatoErrorCodes.Unauthenticated}", $"error app r4 {PigatoErrorCodes.Forbidden}", $"error liar r5 {PigatoErrorCodes.Unauthenticated}"], h.Output.Of("error "));
        Assert.Equal(2, h.Core.Stats().QueuedRequests);
    }

    [Fact]
    public void ARefusalLine_NamesThePrincipalThePeerProved()
    {
        var h = new CoreHarness(new BrokerOptions { Permissions = Rules(), AllowInsecureAuthenticationWithoutEncryption = true, MaxPendingPerClient = 1 });
        h.Hello("app", "api", Api.Token);
        h.Request("app", "report", "r1");
        h.Request("app", "report", "r2");

        Assert.Equal([$"error app r2 {PigatoErrorCodes.ClientPendingLimit}"], h.Output.Of("error "));
        Assert.Contains(h.Logger.Collector.GetSnapshot(), r => r.Message.Contains(PigatoErrorCodes.ClientPendingLimit, StringComparison.Ordinal) && r.Message.Contains("principal 'api'", StringComparison.Ordinal));
    }

    [Fact]
    public void Ready_NeedsAPrincipalThatMayServe()
    {
        var h = Harness();
        h.Core.WorkerReady(CoreHarness.B("anon"), CoreHarness.B("billing"), []);
        h.Core.WorkerReady(CoreHarness.B("fake"), CoreHarness.B("billing"), CoreHarness.B("{\"principal\":\"billing\",\"token\":\"nope\"}"));
        h.Core.WorkerReady(CoreHarness.B("real"), CoreHarness.B("billing"), CoreHarness.B($"{{\"principal\":\"billing\",\"token\":\"{Billing.Token}\"}}"));
        h.Ready("anon-echo", "echo");

        Assert.Equal(["disconnect anon", "disconnect fake"], h.Output.Of("disconnect "));
        Assert.Equal(2, h.Core.Stats().Workers);
    }

    [Fact]
    public void NewPermissions_RevokeAWorker_AtOnce()
    {
        var h = Harness();
        h.Core.WorkerReady(CoreHarness.B("real"), CoreHarness.B("billing"), CoreHarness.B($"{{\"principal\":\"billing\",\"token\":\"{Billing.Token}\"}}"));
        Assert.Equal(1, h.Core.Stats().Workers);

        h.Core.SetPermissions(Rules(billingMayServe: false));

        Assert.Contains("disconnect real", h.Output.Sent);
        Assert.Equal(0, h.Core.Stats().Workers);
    }

    [Fact]
    public void BrokerWithPermissionsButNoCurve_RefusesToStart_UnlessToldLoudly()
    {
        var refused = Assert.Throws<ArgumentException>(() => new Broker(new BrokerOptions { Permissions = Rules() }));
        Assert.Contains("plain text", refused.Message, StringComparison.Ordinal);
        _ = new Broker(new BrokerOptions { Permissions = Rules(), AllowInsecureAuthenticationWithoutEncryption = true });
    }

    [Fact]
    public void PermissionsFile_WithAPrincipalWithoutToken_IsRefused() =>
        Assert.Throws<System.Text.Json.JsonException>(() => Permissions.Parse("""{ "principals": { "api": { "request": ["*"] } } }"""));

    [Fact]
    public void WorkerHeartbeatFromAClientSocket_KeepsAWorkerAlive_OnlyFromAPrincipalThatMayServeIt()
    {
        var h = new CoreHarness(new BrokerOptions { Permissions = Rules(), AllowInsecureAuthenticationWithoutEncryption = true, HeartbeatInterval = TimeSpan.FromSeconds(1), Liveness = 3 });
        h.Core.WorkerReady(CoreHarness.B("w-billing"), CoreHarness.B("billing"), CoreHarness.B($"{{\"principal\":\"billing\",\"token\":\"{Billing.Token}\"}}"));
        h.Core.WorkerReady(CoreHarness.B("w-echo"), CoreHarness.B("echo"), []);
        Assert.Equal(2, h.Core.Stats().Workers);

        // A stranger may not keep the billing worker alive; anonymous may serve echo, so may keep an echo worker alive.
        for (var i = 0; i < 6; i++)
        {
            h.WorkerHeartbeatFromClientSocket("stranger", "w-billing");
            h.WorkerHeartbeatFromClientSocket("stranger", "w-echo");
            h.Tick();
        }

        Assert.Contains("disconnect w-billing", h.Output.Sent);
        Assert.DoesNotContain("disconnect w-echo", h.Output.Sent);
        Assert.Equal(1, h.Core.Stats().Workers);
    }

    [Fact]
    public void DeniedRequest_IsOneLogLine_NamingThePrincipal_AndIsAnswered()
    {
        var h = Harness();
        h.Hello("app", "api", Api.Token);

        h.Request("app", "secret", "r1");

        var lines = h.Logger.Collector.GetSnapshot().Select(r => r.Message).ToList();
        var line = Assert.Single(lines);
        Assert.Contains("'api'", line, StringComparison.Ordinal);
        Assert.Contains("secret", line, StringComparison.Ordinal);
        Assert.Contains($"error app r1 {PigatoErrorCodes.Forbidden}", h.Output.Sent);
    }

    [Fact]
    public void RefusedWorker_TryingAgainAndAgain_IsLoggedOnceASecond_NotReportedAsAnError()
    {
        var h = Harness();
        for (var i = 0; i < 50; i++)
        {
            h.Ready("rogue-" + i, "billing");
        }

        Assert.Equal(50, h.Output.Of("disconnect rogue-").Length);
        Assert.Single(h.Logger.Collector.GetSnapshot());
        Assert.Empty(h.Output.Errors);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Ready("rogue-last", "billing");
        Assert.Contains("49 more", h.Logger.Collector.LatestRecord.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PermissionsFile_WithAPlaintextToken_IsRefused_NamingTheEntry()
    {
        var error = Assert.Throws<System.Text.Json.JsonException>(() => Permissions.Parse($$"""
            { "principals": { "billing": { "tokenHash": "{{Billing.Hash}}", "token": "{{Billing.Token}}", "serve": ["billing"] } } }
            """));

        Assert.Contains("'billing'", error.Message, StringComparison.Ordinal);
        Assert.Contains("plaintext", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Billing.Token, error.Message, StringComparison.Ordinal);
    }
}
