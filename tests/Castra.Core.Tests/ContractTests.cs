using System.Reflection;
using System.Text.Json;
using Castra.Errors;
using Castra.Events;
using Castra.Qmp;
using Castra.Shutdown;
using Castra.State;

namespace Castra.Tests;

/// <summary>The documented shapes: JSON field names and value kinds, name rules, option validation.</summary>
public sealed class ContractTests
{
    public static TheoryData<ShutdownEvent> SampleEvents() =>
    [
        new ShutdownRequestedEvent { Reason = "Maintenance", Message = "patching" },
        new CooperativeAttemptedEvent { Method = "ACPI", TimeoutMs = 60000 },
        new CooperativeSucceededEvent { Method = "ACPI", DurationMs = 48 },
        new CooperativeTimedOutEvent { TimeoutMs = 0, Reason = "ChannelError", Detail = "d", Hint = "h" },
        new EscalationEvent { Signal = "SIGTERM", WaitMs = 10000 },
        new SaveAttemptedEvent { TimeoutMs = 30000, Path = "/root/.castra/vms/web/saved-state.img" },
        new SaveSucceededEvent { DurationMs = 119, SizeBytes = 77645632, Path = "/root/.castra/vms/web/saved-state.img" },
        new SaveFailedEvent { Reason = "MigrationFailed", Detail = "QEMU reports the migration failed: No space left on device", DurationMs = 40, GuestResumed = true },
        new ShutdownCompleteEvent { Outcome = "Forced", TotalMs = 61234, Changed = true },
        new StartedEvent { Pid = 4242, StartMs = 239 },
    ];

    [Theory]
    [MemberData(nameof(SampleEvents))]
    public void Events_serialize_flat_with_type_first_and_round_trip(ShutdownEvent sample)
    {
        var evt = sample with { VmName = "web", ShutdownId = "id", Sequence = 3, Timestamp = new DateTime(2026, 11, 22, 5, 0, 0, 123, DateTimeKind.Utc) };

        var json = EventJson.Serialize(evt);
        using var doc = JsonDocument.Parse(json);
        var properties = doc.RootElement.EnumerateObject().ToList();

        Assert.Equal(["Type", "VmName", "ShutdownId", "Sequence", "Timestamp"], properties.Take(5).Select(p => p.Name));
        Assert.Equal(evt.Type, properties[0].Value.GetString());
        Assert.All(properties, p => Assert.Contains(p.Value.ValueKind, new[] { JsonValueKind.String, JsonValueKind.Number, JsonValueKind.True, JsonValueKind.False }));
        Assert.Equal("2026-11-22T05:00:00.1230000Z", doc.RootElement.GetProperty("Timestamp").GetString());
        var back = EventJson.Deserialize(json);
        Assert.Equal(evt, back);
        Assert.Equal(DateTimeKind.Utc, back.Timestamp.Kind);

        // A line written by an earlier Castra ("+00:00") still reads as the same UTC time.
        var older = EventJson.Deserialize(json.Replace("05:00:00.1230000Z", "05:00:00.123+00:00", StringComparison.Ordinal));
        Assert.Equal((evt.Timestamp, DateTimeKind.Utc), (older.Timestamp, older.Timestamp.Kind));
    }

    [Fact]
    public void Optional_fields_are_omitted_when_absent()
    {
        var json = EventJson.Serialize(new ShutdownRequestedEvent { Reason = "UserRequested" });
        Assert.DoesNotContain("Message", json);
    }

    [Fact]
    public void Every_public_output_property_is_json_friendly()
    {
        var outputs = typeof(ShutdownEvent).Assembly.GetExportedTypes()
            .Where(t => t.IsSubclassOf(typeof(ShutdownEvent)) || t == typeof(ShutdownStatus) || t == typeof(VmInfo) || t == typeof(Castra.Launch.VmReadiness));
        var allowed = new[] { typeof(string), typeof(int), typeof(long), typeof(bool), typeof(DateTime), typeof(int?), typeof(long?), typeof(bool?), typeof(DateTime?) };
        foreach (var type in outputs)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                Assert.True(allowed.Contains(property.PropertyType), $"{type.Name}.{property.Name} is {property.PropertyType}");
            }
        }
    }

    [Fact]
    public void Contract_names_are_the_documented_strings()
    {
        Assert.Equal("ACPI", ContractNames.Of(CooperativeChannel.Acpi));
        Assert.Equal(["ACPI", "Agent", "Unavailable", "None"], Enum.GetValues<CooperativeChannel>().Select(ContractNames.Of));
        Assert.Equal(["TimeoutExpired", "ChannelUnavailable", "ChannelError", "Skipped"], Enum.GetValues<CooperativeFailureReason>().Select(ContractNames.Of));
        Assert.Equal(["Graceful", "Forced", "Failed", "Saved", "Cancelled"], Enum.GetValues<ShutdownOutcome>().Select(ContractNames.Of));
        Assert.Equal(["TimeoutExpired", "MigrationFailed", "WriteError", "ChannelError", "NotResumable"], Enum.GetValues<SaveFailureReason>().Select(ContractNames.Of));
        Assert.Equal(
            ["UserRequested", "SystemShutdown", "Administrative", "Maintenance", "Unhealthy", "IdleTimeout", "ResourceLimitExceeded", "Replaced"],
            Enum.GetValues<ShutdownReason>().Select(ContractNames.Of));
    }

    [Theory]
    [InlineData("web")]
    [InlineData("web-01.prod_a")]
    [InlineData("9")]
    public void Valid_vm_names(string name) => Assert.Equal(name, VmName.Validate(name));

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    [InlineData("-rf")]
    [InlineData("has space")]
    [InlineData("ünï")]
    [InlineData("web\n")]
    public void Invalid_vm_names_are_rejected_with_a_stable_id(string name)
    {
        var ex = Assert.Throws<CastraException>(() => VmName.Validate(name));
        Assert.Equal("CastraInvalidVmName", ex.ErrorId);
        Assert.Equal(CastraErrorCategory.InvalidArgument, ex.Category);
    }

    [Fact]
    public void Names_longer_than_the_limit_are_rejected() =>
        Assert.False(VmName.IsValid(new string('a', VmName.MaxLength + 1)));

    [Fact]
    public void Socket_paths_over_the_unix_limit_are_a_clear_error()
    {
        var root = new StateRoot("/tmp/" + new string('x', 90));
        var ex = Assert.Throws<CastraException>(() => root.Vm("web").EnsureSocketPathsFit());
        Assert.Equal("CastraSocketPathTooLong", ex.ErrorId);
        Assert.Contains("107", ex.Message);

        new StateRoot("/tmp/short").Vm("web").EnsureSocketPathsFit();
    }

    [Fact]
    public async Task Qmp_client_refuses_a_socket_path_over_the_limit()
    {
        var ex = await Assert.ThrowsAsync<QmpException>(() => QmpClient.ConnectAsync("/tmp/" + new string('x', 120), QmpTimeouts.Default, CancellationToken.None));
        Assert.Equal(QmpErrorKind.SocketPathTooLong, ex.Kind);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(86_401)]
    public void Out_of_range_timeouts_are_rejected(double seconds)
    {
        var ex = Assert.Throws<CastraException>(() => new ShutdownOptions { TermTimeout = TimeSpan.FromSeconds(seconds) }.Validate());
        Assert.Equal("CastraInvalidTimeout", ex.ErrorId);
    }

    [Fact]
    public void Timeouts_resolve_call_then_vm_json_then_defaults()
    {
        var fromDefinition = ShutdownTimeouts.Resolve(new ShutdownOptions(), new VmDefinition { TermTimeoutSeconds = 3 });
        Assert.Equal(TimeSpan.FromSeconds(60), fromDefinition.Cooperative);
        Assert.Equal(TimeSpan.FromSeconds(3), fromDefinition.Term);
        Assert.Equal(TimeSpan.FromSeconds(5), fromDefinition.Kill);

        var fromCall = ShutdownTimeouts.Resolve(new ShutdownOptions { TermTimeout = TimeSpan.FromSeconds(1) }, new VmDefinition { TermTimeoutSeconds = 3 });
        Assert.Equal(TimeSpan.FromSeconds(1), fromCall.Term);
        Assert.Equal(TimeSpan.FromSeconds(75), ShutdownTimeouts.Defaults.WorstCase(force: false));
        Assert.Equal(TimeSpan.FromSeconds(15), ShutdownTimeouts.Defaults.WorstCase(force: true));
    }

    [Fact]
    public void State_root_resolution_prefers_the_explicit_path_then_the_environment()
    {
        Assert.Equal("/srv/castra", StateRoot.Resolve("/srv/castra").Path);
        Assert.EndsWith("/.castra", StateRoot.Resolve(null).Path.Replace(Environment.GetEnvironmentVariable("CASTRA_HOME") ?? "\0", "/.castra"));
        Assert.Equal(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "vmhome"), StateRoot.Resolve("~/vmhome").Path);
    }

    [Fact]
    public void A_malformed_vm_json_is_a_clear_error()
    {
        var root = new StateRoot("/tmp/castra-t-" + Guid.NewGuid().ToString("N")[..8]);
        var vm = root.Vm("bad");
        Directory.CreateDirectory(vm.Directory);
        try
        {
            File.WriteAllText(vm.Definition, "{ \"TermTimeoutSeconds\": -4 }");
            Assert.Equal("CastraVmDefinitionInvalid", Assert.Throws<CastraException>(() => VmDefinitionStore.TryRead(vm)).ErrorId);
            File.WriteAllText(vm.Definition, "{ not json");
            Assert.Equal("CastraVmDefinitionInvalid", Assert.Throws<CastraException>(() => VmDefinitionStore.TryRead(vm)).ErrorId);
            File.WriteAllText(vm.Definition, "{ \"TermTimeoutSeconds\": 4, \"Custom\": {\"x\": 1} }");
            var definition = VmDefinitionStore.TryRead(vm)!;
            VmDefinitionStore.Write(vm, definition);
            Assert.Contains("Custom", File.ReadAllText(vm.Definition));
        }
        finally
        {
            Directory.Delete(root.Path, recursive: true);
        }
    }
}
