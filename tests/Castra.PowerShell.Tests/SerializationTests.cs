using System.Management.Automation;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>
/// The round trip that Start-Job, Invoke-Command and Export-Clixml apply (PSSerializer, CliXml): type names become
/// Deserialized.*, properties and their values survive, timestamps whole (UTC, to the tick).
/// </summary>
public sealed class SerializationTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public SerializationTests() => _pwsh.Set("root", _root.Path);

    public void Dispose()
    {
        _pwsh.Dispose();
        _root.Dispose();
    }

    private (IReadOnlyList<PSObject> Live, IReadOnlyList<PSObject> Deserialized) RoundTrip(string script)
    {
        var live = _pwsh.Run($"$live = @({script}); $live").Output;
        var back = _pwsh.Run("[System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($live))").Output;
        Assert.Equal(live.Count, back.Count);
        return (live, back);
    }

    private static void AssertSameProperties(PSObject live, PSObject back, params string[] except)
    {
        Assert.Equal("Deserialized." + live.TypeNames[0], back.TypeNames[0]);
        Assert.Equal(live.PropertyNames().Order(), back.PropertyNames().Order());
        foreach (var name in live.PropertyNames().Except(except))
        {
            Assert.Equal(live.Text(name), back.Text(name));
        }
    }

    [Fact]
    public void Events_keep_their_type_names_properties_and_value_types()
    {
        _root.Launch("web");

        var (live, back) = RoundTrip("Stop-CastraVm web -StateRoot $root");

        for (var i = 0; i < live.Count; i++)
        {
            AssertSameProperties(live[i], back[i]);
            Assert.Equal((DateTime)live[i].Value("Timestamp")!, (DateTime)back[i].Value("Timestamp")!);
            Assert.Equal(DateTimeKind.Utc, ((DateTime)back[i].Value("Timestamp")!).Kind);
            Assert.Contains("Deserialized.Castra.Events.ShutdownEvent", back[i].TypeNames);
            Assert.IsType<int>(back[i].Value("Sequence"));
        }

        Assert.IsType<long>(back[1].Value("TimeoutMs"));
        Assert.IsType<bool>(back[^1].Value("Changed"));
        Assert.Equal("Graceful", back[^1].Text("Outcome"));
    }

    [Fact]
    public void Vms_status_and_hooks_survive_with_their_lists()
    {
        _root.Launch("web");
        _pwsh.Run("Stop-CastraVm web -StateRoot $root");

        foreach (var script in new[] { "Get-CastraVm -StateRoot $root", "Get-CastraShutdownStatus -StateRoot $root" })
        {
            var (live, back) = RoundTrip(script);
            AssertSameProperties(Assert.Single(live), Assert.Single(back), "StartedAt", "LastShutdownAt", "FinishedAt", "UpdatedAt");
        }

        var (hooks, hooksBack) = RoundTrip("Register-CastraCleanupHook export -FilePath /bin/echo -ArgumentList one, 'two words' -StateRoot $root -PassThru");
        AssertSameProperties(Assert.Single(hooks), Assert.Single(hooksBack), "RegisteredAt", "Arguments");
        Assert.Equal(["one", "two words"], LanguagePrimitives.GetEnumerable(hooksBack[0].Value("Arguments"))!.Cast<object>().Select(o => o.ToString()));
    }

    [Fact]
    public void Export_Clixml_gives_back_timestamps_to_the_tick_and_ConvertTo_Json_writes_them_in_ISO_8601_UTC()
    {
        _root.Launch("web");
        var clixml = Path.Combine(_root.Path, "events.clixml");
        _pwsh.Set("clixml", clixml);

        var live = _pwsh.Run("Stop-CastraVm web -StateRoot $root | Tee-Object -Variable live | Export-Clixml -Path $clixml; $live").Output;
        var back = _pwsh.Run("Import-Clixml -Path $clixml").Output;
        var json = string.Concat(_pwsh.Run("Import-Clixml -Path $clixml | ConvertTo-Json").Output.Select(o => o.ToString()));

        Assert.Equal(live.Select(e => (DateTime)e.Value("Timestamp")!), back.Select(e => (DateTime)e.Value("Timestamp")!));
        Assert.All(back, e => Assert.Equal(DateTimeKind.Utc, ((DateTime)e.Value("Timestamp")!).Kind));
        Assert.Matches(@"""Timestamp"":\s*""\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z""", json);
    }
}
