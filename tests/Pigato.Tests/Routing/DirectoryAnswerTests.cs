using Pigato.Routing;
using Pigato.Security;

namespace Pigato.Tests.Routing;

/// <summary><c>$dir</c> answered by the broker core from its own tables (<see cref="BrokerOptions.EnableDirectory"/>).</summary>
public class DirectoryAnswerTests
{
    private static readonly (string Token, string Hash) Api = Permissions.NewToken();

    private static CoreHarness Harness(Permissions? permissions = null) =>
        new(new BrokerOptions { Liveness = 3, EnableDirectory = true, Permissions = permissions, AllowInsecureAuthenticationWithoutEncryption = permissions is not null });

    [Fact]
    public void AServiceName_IsAnsweredAtOnce_WithItsWorkers_AndAnUnknownOneWithNone()
    {
        var h = Harness();
        h.Ready("w1", "echo", 5);
        h.Ready("w2", "echo", 5);
        h.Ready("w3", "other", 5);

        h.Request("c", "$dir", "r1", data: "\"echo\"");
        h.Request("c", "$dir", "r2", data: "\"unknown\"");

        Assert.Equal(["[\"w1\",\"w2\"]", "[]"], h.Output.Replies);
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void NoData_IsAnsweredWithEveryRegisteredService_AndAChangeShowsInTheNextAnswer()
    {
        var h = Harness();
        h.Ready("w1", "echo", 5);
        h.Ready("w2", "other", 5);
        h.Request("c", "$dir", "r1", data: "");

        h.Core.WorkerDisconnect(CoreHarness.B("w2"));
        h.Request("c", "$dir", "r2", data: "null");

        Assert.Equal(["{\"echo\":[\"w1\"],\"other\":[\"w2\"]}", "{\"echo\":[\"w1\"],\"other\":[]}"], h.Output.Replies);
    }

    [Fact]
    public void TheAnswer_ListsOnlyWhatTheRequesterMayRequest()
    {
        var h = Harness(Permissions.Parse($$"""
            { "principals": {
                "api": { "tokenHash": "{{Api.Hash}}", "request": ["billing*", "$dir"] },
                "anonymous": { "request": ["$dir"], "serve": ["billing", "secret"] } } }
            """));
        h.Ready("w-billing", "billing", 5);
        h.Ready("w-secret", "secret", 5);
        h.Hello("app", "api", Api.Token);

        h.Request("app", "$dir", "r1", data: "");
        h.Request("stranger", "$dir", "r2", data: "");
        h.Request("stranger", "$dir", "r3", data: "\"secret\"");

        Assert.Equal(["{\"billing\":[\"w-billing\"]}", "{}", "[]"], h.Output.Replies);
    }

    [Fact]
    public void DataThatIsNotAServiceName_IsRefused()
    {
        var h = Harness();
        h.Request("c", "$dir", "r1", data: "42");

        Assert.Equal([$"error c r1 {PigatoErrorCodes.RequestInvalid}"], h.Output.Of("error "));
    }

    [Fact]
    public void WithoutTheOption_DirIsAServiceLikeAnyOther_ForAnExternalDirectory()
    {
        var h = new CoreHarness();
        h.Ready("directory", "$dir", 5);

        h.Request("c", "$dir", "r1", data: "\"echo\"");

        Assert.Empty(h.Output.Replies);
        Assert.Equal("directory", h.WorkerOf("r1"));
    }
}
