using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Pigato.Routing;
using Pigato.Security;

namespace Pigato.Tests.Routing;

/// <summary>The broker's security rules on their own: principals by identity, denials counted and logged once a second per code.</summary>
public class BrokerAuthorizerTests
{
    private static readonly (string Token, string Hash) Api = Permissions.NewToken();

    private static Permissions Rules(string apiRequests = "\"billing*\"") => Permissions.Parse($$"""
        { "principals": {
            "api": { "tokenHash": "{{Api.Hash}}", "request": [{{apiRequests}}], "serve": ["billing"] },
            "anonymous": { "request": ["echo"], "serve": ["echo"] } } }
        """);

    private readonly FakeLogger _logger = new();
    private readonly FakeTimeProvider _time = new();

    private BrokerAuthorizer Authorizer(Permissions? permissions) => new(permissions, new RefusalLog(_logger, _time, peer => $"address of {peer}"), metrics: null);

    [Fact]
    public void WithoutPermissions_EveryoneIsAnonymous_AndEverythingIsAllowed()
    {
        var authorizer = Authorizer(null);
        authorizer.Authenticate("c"u8, "api", "anything");

        Assert.Equal(Permissions.Anonymous, authorizer.PrincipalOf("c"u8));
        Assert.Null(authorizer.DenyRequest("c"u8, "billing"u8));
        Assert.True(authorizer.AdmitWorker("w"u8, "billing", default, out var principal));
        Assert.Null(principal);
        Assert.Empty(_logger.Collector.GetSnapshot());
    }

    [Fact]
    public void AProvenPrincipal_IsKeptForItsIdentity_UntilForgotten()
    {
        var authorizer = Authorizer(Rules());
        authorizer.Authenticate("c"u8, "api", Api.Token);

        Assert.Equal("api", authorizer.PrincipalOf("c"u8));
        Assert.Null(authorizer.DenyRequest("c"u8, "billing.refund"u8));
        Assert.Equal(PigatoErrorCodes.Forbidden, authorizer.DenyRequest("c"u8, "echo"u8));

        authorizer.Forget(PeerKey.Of("c"u8));

        Assert.Equal(Permissions.Anonymous, authorizer.PrincipalOf("c"u8));
        Assert.Equal(PigatoErrorCodes.Unauthenticated, authorizer.DenyRequest("c"u8, "billing"u8));
    }

    [Fact]
    public void AWrongToken_IsDenied_AndLeavesTheClientAnonymous()
    {
        var authorizer = Authorizer(Rules());
        authorizer.Authenticate("c"u8, "api", "guessed");

        Assert.Equal(Permissions.Anonymous, authorizer.PrincipalOf("c"u8));
        var line = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Contains(PigatoErrorCodes.Unauthenticated, line.Message, StringComparison.Ordinal);
        Assert.Contains("'api'", line.Message, StringComparison.Ordinal);
        Assert.Contains("refused c (from address of c)", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Denials_AreLoggedAtMostOnceASecondPerCode()
    {
        var authorizer = Authorizer(Rules());
        for (var i = 0; i < 100; i++)
        {
            authorizer.DenyRequest("c"u8, "billing"u8);
        }

        Assert.Single(_logger.Collector.GetSnapshot());
        _time.Advance(TimeSpan.FromSeconds(1));
        authorizer.DenyRequest("c"u8, "billing"u8);

        Assert.Contains("99", _logger.Collector.LatestRecord.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Workers_ServeOnlyWhatTheirPrincipalMay_AndLoseItWhenThePermissionsChange()
    {
        var authorizer = Authorizer(Rules());
        var status = new WorkerStatus(null, false, "api", Api.Token);

        Assert.True(authorizer.AdmitWorker("w1"u8, "billing", status, out var principal));
        Assert.Equal("api", principal);
        Assert.False(authorizer.AdmitWorker("w2"u8, "secret", status, out _));
        Assert.False(authorizer.AdmitWorker("w3"u8, "billing", default, out _));
        Assert.True(authorizer.AdmitWorker("w4"u8, "echo", default, out _));

        var billing = new BrokerWorker("w1", "w1"u8.ToArray(), new ServiceEntry("billing"), 3, 1, long.MaxValue) { Principal = "api" };
        var echo = new BrokerWorker("w4", "w4"u8.ToArray(), new ServiceEntry("echo"), 3, 1, long.MaxValue) { Principal = Permissions.Anonymous };
        var revoked = authorizer.Replace(Permissions.Parse("""{ "principals": { "anonymous": { "serve": ["echo"] } } }"""), [billing, echo]);

        Assert.Equal([billing], revoked);
    }
}
