using System.Globalization;
using Microsoft.Playwright;
using Pigato.TestUtilities;
using Pigato.Management;

namespace Pigato.Slow.Tests;

/// <summary>
/// The dashboard in a real browser: headless Chromium from Debian's <c>chromium</c> package (installed by <c>.ci/run</c>),
/// driven by Playwright with the system browser (nothing downloaded).
/// </summary>
public sealed class DashboardBrowserTests
{
    /// <summary>The browser to drive: <c>PIGATO_CHROMIUM</c>, else Debian's.</summary>
    private static readonly string Chromium = Environment.GetEnvironmentVariable("PIGATO_CHROMIUM") ?? "/usr/bin/chromium";

    [SkippableFact]
    public async Task Dashboard_ShowsANewWorker_AndTheRateChartMovesAfterABurst_WithoutConsoleErrors()
    {
        // In CI the browser must be there (.ci/run installs it); elsewhere its absence skips the test, saying why.
        var missing = $"No browser at {Chromium}: install Debian's chromium (apt-get install chromium; .ci/run does) or set PIGATO_CHROMIUM.";
        Skip.If(!File.Exists(Chromium) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")), missing);
        Assert.True(File.Exists(Chromium), missing);
        await using var harness = await PigatoHarness.StartAsync();
        await using var management = new BrokerManagement(harness.Broker, new BrokerManagementOptions { Url = "http://127.0.0.1:0" });
        await management.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 1400 } });
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (problems)
                {
                    problems.Add($"console: {message.Text} at {message.Location}");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (problems)
            {
                problems.Add("page: " + error);
            }
        };

        await page.GotoAsync(management.Url!);
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("Live", new() { Timeout = 10_000 });
        await Assertions.Expect(page.Locator("#broker-name")).ToHaveTextAsync(harness.Broker.Name);

        // A worker registered now is listed (one sample a second, pushed as an event): waited for, not timed.
        await harness.StartWorkerAsync("dashboard-echo", (d, r, _) => r.EndAsync(d));
        await Assertions.Expect(page.Locator("#workers tbody")).ToContainTextAsync("dashboard-echo", new() { Timeout = (float)Bounded.Timeout.TotalMilliseconds });

        // A burst of requests shows in the request-rate chart.
        var before = double.Parse(await page.Locator("#rate-chart").GetAttributeAsync("data-max") ?? "0", CultureInfo.InvariantCulture);
        var client = await harness.StartClientAsync();
        await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i => client.RequestAsync<int>("dashboard-echo", i, cancellationToken: Bounded.Token()).AsTask()));
        await Assertions.Expect(page.Locator("#rate-chart")).Not.ToHaveAttributeAsync("data-max", before.ToString(CultureInfo.InvariantCulture), new() { Timeout = 10_000 });
        var after = double.Parse(await page.Locator("#rate-chart").GetAttributeAsync("data-max") ?? "0", CultureInfo.InvariantCulture);
        Assert.True(after > before, $"the chart's highest rate went from {before} to {after}");
        await Assertions.Expect(page.Locator("#rate-chart path.s1")).ToHaveCountAsync(1);

        // Labelled controls, reachable from the keyboard.
        await page.GetByLabel("Filter").FillAsync("no-such-worker");
        await Assertions.Expect(page.Locator("#workers tbody")).ToContainTextAsync("No worker matches the filter.");
        await page.GetByLabel("Filter").FillAsync("");
        await page.GetByLabel("Window").SelectOptionAsync("60");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Shift+Tab");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pause updates" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Resume updates" })).ToHaveAttributeAsync("aria-pressed", "true");
        await page.Keyboard.PressAsync("Enter");

        var screenshot = Path.Combine(ResultsDirectory(), "dashboard.png");
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 0);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    /// <summary>The repository's TestResults folder (where <c>.ci/run</c> collects results), made if missing.</summary>
    private static string ResultsDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Pigato.slnx")))
        {
            directory = directory.Parent;
        }

        return Directory.CreateDirectory(Path.Combine(directory?.FullName ?? AppContext.BaseDirectory, "TestResults")).FullName;
    }
}
