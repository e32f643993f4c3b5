using System.Management.Automation;
using Castra.PowerShell.Tests.Support;

namespace Castra.PowerShell.Tests;

/// <summary>
/// -AsJob: a job in the session's job table with one child per VM, driven by Wait-Job, Receive-Job and Stop-Job. Each
/// child is a job of its own: it ends when its VM does, and Stop-Job on it stops that VM only.
/// </summary>
public sealed class JobTests : IDisposable
{
    private readonly FakeStateRoot _root = new();
    private readonly PwshSession _pwsh = new();

    public JobTests() => _pwsh.Set("root", _root.Path);

    public void Dispose()
    {
        _pwsh.Run("Get-Job | Remove-Job -Force");
        _pwsh.Dispose();
        _root.Dispose();
    }

    [Fact]
    public void AsJob_returns_one_registered_job_with_a_child_per_VM_and_each_child_holds_its_VMs_events()
    {
        _root.Launch("a");
        _root.Launch("b");

        var job = (Job)Assert.Single(_pwsh.Run("$job = Stop-CastraVm a, b -StateRoot $root -AsJob; $job").Output).BaseObject;

        Assert.Equal("CastraShutdownJob", job.PSJobTypeName);
        Assert.Equal(job.InstanceId, ((Job)Assert.Single(_pwsh.Run("Get-Job -Id $job.Id").Output).BaseObject).InstanceId);
        Assert.Equal(["a", "b"], job.ChildJobs.Select(c => c.Name).Order());

        _pwsh.Run("$null = Wait-Job $job -Timeout 60");
        Assert.Equal(JobState.Completed, job.JobStateInfo.State);
        Assert.All(job.ChildJobs, c => Assert.Equal(JobState.Completed, c.JobStateInfo.State));
        Assert.True(job.HasMoreData);

        var fromA = _pwsh.Run("Receive-Job ($job.ChildJobs | Where-Object Name -eq 'a')");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], fromA.TypesOf("a"));
        Assert.Empty(fromA.TypesOf("b"));

        var rest = _pwsh.Run("Receive-Job $job");
        Assert.Equal(["ShutdownRequested", "CooperativeAttempted", "CooperativeSucceeded", "ShutdownComplete"], rest.TypesOf("b"));
        Assert.Empty(rest.TypesOf("a"));
        Assert.False(job.HasMoreData);
    }

    [Fact]
    public void A_child_jobs_verbose_and_progress_streams_carry_its_VMs_records()
    {
        _root.Launch("web");

        _pwsh.Run("$job = Stop-CastraVm web -StateRoot $root -AsJob; $null = Wait-Job $job -Timeout 60");
        var child = (Job)Assert.Single(_pwsh.Run("$job.ChildJobs").Output).BaseObject;

        Assert.Contains(child.Verbose, v => v.Message.StartsWith("[SHD] web: ", StringComparison.Ordinal));
        Assert.Equal(ProgressRecordType.Completed, child.Progress.Last().RecordType);
        Assert.Equal("Stopping VM web", child.Progress.Last().Activity);
    }

    [Fact]
    public void An_unknown_VM_fails_its_own_child_with_its_error_while_the_other_child_completes()
    {
        _root.Launch("web");

        _pwsh.Run("$job = Stop-CastraVm ghost, web -StateRoot $root -AsJob; $null = Wait-Job $job -Timeout 60");
        var job = (Job)Assert.Single(_pwsh.Run("$job").Output).BaseObject;

        Assert.Equal(JobState.Failed, job.ChildJobs.Single(c => c.Name == "ghost").JobStateInfo.State);
        Assert.Equal(JobState.Completed, job.ChildJobs.Single(c => c.Name == "web").JobStateInfo.State);
        Assert.Equal(JobState.Failed, job.JobStateInfo.State);

        var received = _pwsh.Run("Receive-Job $job");
        var error = Assert.Single(received.Errors);
        Assert.StartsWith("CastraVmNotFound", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal("ghost", error.TargetObject);
        Assert.Equal("Graceful", received.Events.Last(e => e.Text("VmName") == "web").Text("Outcome"));
    }

    [Fact]
    public void TurnOff_as_a_job_does_not_warn_that_the_VM_had_to_be_forced()
    {
        var vm = _root.Launch("web");

        var result = _pwsh.Run("Stop-CastraVm web -StateRoot $root -TurnOff -Force -AsJob | Wait-Job | Receive-Job");

        Assert.Equal("Forced", result.Events[^1].Text("Outcome"));
        Assert.DoesNotContain(result.Warnings, w => w.Message.Contains("had to be forced", StringComparison.Ordinal));
        Assert.False(vm.IsAlive);
    }

    [Fact]
    public void Stop_Job_cancels_the_wait_sends_no_signal_and_the_VMs_last_event_says_Cancelled()
    {
        var slow = _root.Launch("slow", "ignore-acpi");
        _pwsh.Run("$job = Stop-CastraVm slow -StateRoot $root -CooperativeTimeout 600 -AsJob");
        Poll.Until(() => slow.Records.Contains("cmd:system_powerdown"), "the ACPI button press");

        _pwsh.Run("Stop-Job $job");

        var job = (Job)Assert.Single(_pwsh.Run("$job").Output).BaseObject;
        Assert.Equal(JobState.Stopped, job.JobStateInfo.State);
        Assert.Equal(JobState.Stopped, Assert.Single(job.ChildJobs).JobStateInfo.State);
        Assert.True(slow.IsAlive);
        Assert.DoesNotContain("signal:TERM", slow.Records);
        var last = _pwsh.Run("Receive-Job $job").Events[^1];
        Assert.Equal("ShutdownComplete", last.Text("Type"));
        Assert.Equal("Cancelled", last.Text("Outcome"));
    }

    [Fact]
    public void Each_child_completes_when_its_VM_does_and_Wait_Job_Any_returns_the_first()
    {
        var fast = _root.Launch("fast");
        var slow = _root.Launch("slow", "ignore-acpi");
        _pwsh.Run("$job = Stop-CastraVm fast, slow -StateRoot $root -CooperativeTimeout 600 -AsJob");

        var first = (Job)Assert.Single(_pwsh.Run("Wait-Job -Any $job.ChildJobs -Timeout 60").Output).BaseObject;

        Assert.Equal("fast", first.Name);
        Assert.Equal(JobState.Completed, first.JobStateInfo.State);
        Assert.False(fast.IsAlive);
        var job = (Job)Assert.Single(_pwsh.Run("$job").Output).BaseObject;
        Assert.Equal(JobState.Running, job.ChildJobs.Single(c => c.Name == "slow").JobStateInfo.State);
        Assert.Equal(JobState.Running, job.JobStateInfo.State);

        // Stop-Job on one child stops that VM only; the parent then ends, the other child untouched.
        _pwsh.Run("Stop-Job ($job.ChildJobs | Where-Object Name -eq slow)");
        Assert.Equal(JobState.Stopped, job.ChildJobs.Single(c => c.Name == "slow").JobStateInfo.State);
        Assert.Equal(JobState.Completed, first.JobStateInfo.State);
        Poll.Until(() => job.JobStateInfo.State is JobState.Stopped, "the parent job's end", 10);
        Assert.True(slow.IsAlive);
        Assert.DoesNotContain("signal:TERM", slow.Records);
    }

    [Fact]
    public void A_pattern_that_matches_no_VM_still_returns_a_job_with_the_error_in_it()
    {
        var job = (Job)Assert.Single(_pwsh.Run("Stop-CastraVm 'nomatch*' -StateRoot $root -AsJob").Output).BaseObject;

        Assert.Equal(JobState.Failed, job.JobStateInfo.State);
        var received = _pwsh.Run($"Receive-Job -Id {job.Id}");
        var error = Assert.Single(received.Errors);
        Assert.StartsWith("CastraVmNotFound", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Contains("'nomatch*'", error.Exception.Message);
    }

    [Fact]
    public void Receive_Job_Wait_AutoRemoveJob_returns_as_the_VMs_finish()
    {
        _root.Launch("web");

        var received = _pwsh.Run("Stop-CastraVm web -StateRoot $root -AsJob | Receive-Job -Wait -AutoRemoveJob");

        Assert.Equal("Graceful", received.Events[^1].Text("Outcome"));
        Assert.Empty(_pwsh.Run("Get-Job").Output);
    }
}
