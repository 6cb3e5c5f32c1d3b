using System.Text.Json;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>The <c>$dir</c> core service, answered by the broker itself (<see cref="BrokerOptions.EnableDirectory"/>).</summary>
public class DirectoryTests
{
    private static Task<PigatoHarness> StartWithDirectoryAsync() =>
        PigatoHarness.StartAsync(new BrokerOptions { EnableDirectory = true });

    [Fact]
    public async Task ServiceList_NamesExactlyItsWorkers()
    {
        await using var harness = await StartWithDirectoryAsync();
        var echo = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            echo.Add((await harness.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d))).Id!);
            await harness.StartWorkerAsync("other", (d, r, _) => r.EndAsync(d));
        }

        var client = await harness.StartClientAsync();

        // The very first request already sees the current map (the original missed the first snapshot).
        var listed = await client.RequestAsync<string[]>(DirectoryService.ServiceName, "echo", cancellationToken: Bounded.Token());
        Assert.Equal(echo.Order(), listed!.Order());
        Assert.Empty((await client.RequestAsync<string[]>(DirectoryService.ServiceName, "unknown", cancellationToken: Bounded.Token()))!);
    }

    [Fact]
    public async Task WholeMap_ListsEveryRegisteredService()
    {
        await using var harness = await StartWithDirectoryAsync();
        var worker = await harness.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d));
        var client = await harness.StartClientAsync();

        var map = await client.RequestAsync<Dictionary<string, string[]>>(DirectoryService.ServiceName, null, cancellationToken: Bounded.Token());

        Assert.Equal(["echo"], map!.Keys);
        Assert.Equal([worker.Id!], map["echo"]);
    }

    [Fact]
    public async Task Map_UpdatesWhenAWorkerLeaves()
    {
        await using var harness = await StartWithDirectoryAsync();
        var staying = await harness.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d));
        var leaving = await harness.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d));
        var client = await harness.StartClientAsync();
        Assert.Equal(2, (await client.RequestAsync<string[]>(DirectoryService.ServiceName, "echo", cancellationToken: Bounded.Token()))!.Length);

        await leaving.StopAsync();

        // The worker's goodbye and the client's request come on different connections: ask until it shows (bounded).
        string[] listed = [];
        await Bounded.UntilAsync(
            async () => (listed = (await client.RequestAsync<string[]>(DirectoryService.ServiceName, "echo", cancellationToken: Bounded.Token()))!).Length == 1,
            "the directory lists one worker");

        Assert.Equal([staying.Id!], listed);
    }

    [Fact]
    public async Task Directory_NeedsNoInternalChannel()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { EnableDirectory = true, InternalEndpoint = null });
        var worker = await harness.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d));
        var client = await harness.StartClientAsync();

        Assert.Equal([worker.Id!], (await client.RequestAsync<string[]>(DirectoryService.ServiceName, "echo", cancellationToken: Bounded.Token()))!);
    }
}
