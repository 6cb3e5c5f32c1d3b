using Pigato.Routing;
using System.Text;
using System.Text.Json;
using Pigato.Internal;

namespace Pigato.Tests;

/// <summary>The JSON frames the broker reads (request options, worker status) and the client writes.</summary>
public class OptionsFrameTests
{
    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void BrokerRequestOptions_ReadsEveryField()
    {
        var parsed = BrokerRequestOptions.Parse(B("{\"timeout\":1500,\"retry\":1,\"workerId\":\"W1\",\"persist\":true,\"user\":{\"deep\":[1,2]}}"));
        Assert.Equal(new BrokerRequestOptions(1500, true, "W1", true), parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("undefined")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"timeout\":")]
    public void BrokerRequestOptions_BadFrame_GivesDefaults(string frame) =>
        Assert.Equal(BrokerRequestOptions.Default, BrokerRequestOptions.Parse(B(frame)));

    /// <summary>Found by fuzzing (tests/Pigato.Fuzz/regressions): the reader checks a string's UTF-8 only when it reads it.</summary>
    [Fact]
    public void AStringThatIsNotUtf8_EndsTheReading_KeepingWhatWasReadBefore()
    {
        byte[] options = [.. B("{\"retry\":true,\"workerId\":\""), 0xFF, 0xFE, .. B("\",\"persist\":true}")];
        byte[] status = [.. B("{\"concurrency\":5,\"principal\":\""), 0xC3, .. B("\"}")];

        Assert.Equal(BrokerRequestOptions.Default with { Retry = true }, BrokerRequestOptions.Parse(options));
        Assert.Equal(5, WorkerStatus.Parse(status).Concurrency);
        Assert.Null(WorkerStatus.Parse(status).Principal);
    }

    [Fact]
    public void AFrameThatIsNotUtf8_IsNotJson_AndItsTextKeepsWhatCanBeRead()
    {
        byte[] frame = [.. B("\"caf"), 0xE9, .. B("\"")];

        Assert.Equal(JsonValueKind.Undefined, JsonFrame.Parse(frame, keepInvalidAsText: false).ValueKind);
        Assert.Equal("\"caf\uFFFD\"", JsonFrame.Parse(frame, keepInvalidAsText: true).GetString());
    }

    [Fact]
    public void ATraceparentThatCannotBeText_GivesNoTraceContext()
    {
        byte[] escapedLoneSurrogate = B("{\"traceparent\":\"\\ud800\"}");
        byte[] invalidUtf8 = [.. B("{\"traceparent\":\""), 0xFF, .. B("\"}")];

        Assert.Equal(default, Tracing.Extract(escapedLoneSurrogate));
        Assert.Equal(default, Tracing.Extract(invalidUtf8));
    }

    [Theory]
    [InlineData("{\"timeout\":-1}", -1)]
    [InlineData("{\"timeout\":-5}", -1)]
    [InlineData("{\"timeout\":\"soon\"}", BrokerRequestOptions.DefaultTimeout)]
    [InlineData("{\"timeout\":250.7}", 250)]
    public void BrokerRequestOptions_Timeout(string frame, long expected) =>
        Assert.Equal(expected, BrokerRequestOptions.Parse(B(frame)).Timeout);

    [Theory]
    [InlineData("{\"retry\":0}", false)]
    [InlineData("{\"retry\":false}", false)]
    [InlineData("{\"retry\":true}", true)]
    [InlineData("{\"retry\":\"1\"}", true)]
    [InlineData("{\"retry\":null}", false)]
    public void BrokerRequestOptions_RetryIsJavaScriptTruthy(string frame, bool expected) =>
        Assert.Equal(expected, BrokerRequestOptions.Parse(B(frame)).Retry);

    [Theory]
    [InlineData("{\"concurrency\":20}", 20, false)]
    [InlineData("{\"concurrency\":-1,\"update\":true}", -1, true)]
    [InlineData("{\"concurrency\":-7}", -1, false)]
    [InlineData("{\"other\":{\"concurrency\":3}}", null, false)]
    [InlineData("garbage", null, false)]
    [InlineData("", null, false)]
    public void WorkerStatus_ReadsConcurrencyAndUpdate(string frame, int? concurrency, bool update) =>
        Assert.Equal(new WorkerStatus(concurrency, update), WorkerStatus.Parse(B(frame)));

    [Fact]
    public void RequestOptions_ToJson_WritesOriginalFieldsAndUserFields()
    {
        var options = new RequestOptions
        {
            Retry = true,
            WorkerId = "W1",
            NoCache = true,
            Persist = true,
            Fields = new Dictionary<string, object?> { ["tenant"] = "acme", ["priority"] = 3 },
        };
        using var json = JsonDocument.Parse(options.ToJson(TimeSpan.FromSeconds(2), JsonSerializerOptions.Web));
        var root = json.RootElement;
        Assert.Equal(2000, root.GetProperty("timeout").GetInt64());
        Assert.Equal(1, root.GetProperty("retry").GetInt32());
        Assert.Equal("W1", root.GetProperty("workerId").GetString());
        Assert.True(root.GetProperty("nocache").GetBoolean());
        Assert.True(root.GetProperty("persist").GetBoolean());
        Assert.Equal("acme", root.GetProperty("tenant").GetString());
        Assert.Equal(3, root.GetProperty("priority").GetInt32());
    }

    [Fact]
    public void RequestOptions_ToJson_InfiniteTimeoutIsMinusOne()
    {
        using var json = JsonDocument.Parse(RequestOptions.Default.ToJson(Timeout.InfiniteTimeSpan, JsonSerializerOptions.Web));
        Assert.Equal(-1, json.RootElement.GetProperty("timeout").GetInt64());
        Assert.Equal(0, json.RootElement.GetProperty("retry").GetInt32());
    }

    [Theory]
    [InlineData("", JsonValueKind.Undefined)]
    [InlineData("undefined", JsonValueKind.Undefined)]
    [InlineData("{\"a\":1}", JsonValueKind.Object)]
    [InlineData("oops", JsonValueKind.String)]
    public void JsonFrame_KeepsInvalidAsText(string frame, JsonValueKind kind) =>
        Assert.Equal(kind, JsonFrame.Parse(B(frame), keepInvalidAsText: true).ValueKind);

    [Fact]
    public void Options_InvalidValues_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Broker(new BrokerOptions { Liveness = 0 }));
        Assert.Throws<ArgumentException>(() => new Worker(new WorkerOptions { Service = " " }, (_, r, _) => r.EndAsync()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Client(new ClientOptions { DefaultTimeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Worker(new WorkerOptions { Service = "s", Concurrency = -2 }, (_, r, _) => r.EndAsync()));
    }
}
