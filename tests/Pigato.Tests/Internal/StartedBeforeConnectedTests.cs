using Pigato.Internal;

namespace Pigato.Tests.Internal;

/// <summary>An actor's Started comes before its Connected, whichever thread gets there first.</summary>
public class StartedBeforeConnectedTests
{
    [Fact]
    public void ConnectedBeforeTheStartReturned_IsHeldUntilStarted()
    {
        var events = new List<string>();
        var order = new StartedBeforeConnected();

        order.Connected(() => events.Add("connected"));
        Assert.Empty(events);
        order.Started(() => events.Add("started"), () => events.Add("connected"));

        Assert.Equal(["started", "connected"], events);
    }

    [Fact]
    public void ConnectedAfterStarted_IsRaisedAtOnce_AndAResetHoldsItAgain()
    {
        var events = new List<string>();
        var order = new StartedBeforeConnected();
        order.Started(() => events.Add("started"), () => events.Add("connected"));

        order.Connected(() => events.Add("connected"));
        order.Reset();
        order.Connected(() => events.Add("connected"));

        Assert.Equal(["started", "connected"], events);
    }
}
