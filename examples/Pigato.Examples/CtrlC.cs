namespace Pigato.Examples;

/// <summary>For the example programs: wait until the user presses Ctrl+C.</summary>
public static class CtrlC
{
    /// <summary>Completes on the first Ctrl+C (which then no longer ends the process at once).</summary>
    public static Task WaitAsync()
    {
        var pressed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            pressed.TrySetResult();
        };
        return pressed.Task;
    }
}
