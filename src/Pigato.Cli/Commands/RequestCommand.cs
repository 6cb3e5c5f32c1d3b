using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pigato.Cli.Commands;

/// <summary><c>pigato request</c>: sends one request and prints its partial replies and its final reply.</summary>
internal static class RequestCommand
{
    public static Command Create()
    {
        var service = new Argument<string>("service") { Description = "The service to ask (a name, prefix* match, or name@semver-range)." };
        var data = new Argument<string?>("json-data") { Description = "Request data as JSON; text that is not JSON is sent as a string.", Arity = ArgumentArity.ZeroOrOne };
        var broker = Cli.BrokerOption();
        var curve = Cli.CurveServerOption();
        var credentialOptions = Cli.CredentialOptions();
        var timeout = Cli.DurationOption("--timeout", "Time without a reply before giving up", TimeSpan.FromSeconds(10));
        var option = new Option<string[]>("--option", "-o") { Description = "A request option key=value (value as JSON, else text); repeatable.", AllowMultipleArgumentsPerToken = false };
        option.Validators.Add(r =>
        {
            foreach (var bad in r.GetValueOrDefault<string[]>()?.Where(o => o.IndexOf('=', StringComparison.Ordinal) <= 0) ?? [])
            {
                r.AddError($"--option '{bad}' is not key=value.");
            }
        });
        var workerId = new Option<string?>("--worker", "-w") { Description = "Only this worker id may handle the request." };
        var failWithoutWorkers = new Option<bool>("--fail-without-workers") { Description = "Fail at once with ERR_NO_WORKERS when no worker offers the service, instead of waiting for one until the timeout." };

        var command = new Command("request", "Send one request and print each partial reply as it arrives, then the final reply.") { service, data, broker, timeout, option, workerId, failWithoutWorkers, curve, credentialOptions.Principal, credentialOptions.TokenFile };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!Cli.TryCurveServerKey(parse, curve, out var curveKey) || !Cli.TryCredential(parse, credentialOptions, out var credential))
            {
                return 1;
            }

            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var endpoints = parse.GetValue(broker)!;
            var endpoint = string.Join(", ", endpoints);
            var name = parse.GetValue(service)!;
            var wait = parse.GetValue(timeout);
            var fields = (parse.GetValue(option) ?? []).ToDictionary(o => o[..o.IndexOf('=', StringComparison.Ordinal)], o => (object?)AsJson(o[(o.IndexOf('=', StringComparison.Ordinal) + 1)..]));
            var options = new RequestOptions { Timeout = wait, WorkerId = parse.GetValue(workerId), Fields = fields, FailWithoutWorkers = parse.GetValue(failWithoutWorkers) ? true : null };

            await using var client = new Client(new ClientOptions { Endpoints = endpoints, CurveServerKey = curveKey, Credential = credential });
            await client.StartAsync(cancellationToken);
            try
            {
                await foreach (var reply in client.RequestStreamAsync<JsonElement>(name, AsJson(parse.GetValue(data)), options, cancellationToken))
                {
                    await output.WriteLineAsync(reply.IsFinal ? Text(reply.Data) : "partial " + Text(reply.Data));
                }

                return 0;
            }
            catch (PigatoTimeoutException)
            {
                await error.WriteLineAsync($"error: no reply from '{name}' within {wait.TotalSeconds:0.###} s ({PigatoErrorCodes.Timeout}): is a broker running at {endpoint}, with a worker for '{name}'?");
            }
            catch (PigatoReplyException e)
            {
                await error.WriteLineAsync($"error: '{name}' answered with an error: {Text(e.Error)}");
            }
            catch (PigatoException e)
            {
                await error.WriteLineAsync($"error: {e.Message} ({e.Code})");
            }
            catch (OperationCanceledException)
            {
                await error.WriteLineAsync("cancelled");
            }

            return 1;
        });
        return command;
    }

    /// <summary>Text as a JSON value when it parses as one, else as a JSON string.</summary>
    internal static JsonNode? AsJson(string? text)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    private static string Text(JsonElement value) => value.ValueKind == JsonValueKind.Undefined ? "null" : value.GetRawText();
}
