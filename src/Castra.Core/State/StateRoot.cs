using Castra.Errors;

namespace Castra.State;

/// <summary>
/// The directory holding every VM Castra knows: <c>$CASTRA_HOME</c>, else <c>~/.castra</c>, unless a caller
/// names one explicitly (<c>--home</c>, <c>-StateRoot</c>). Layout: docs/state-layout.md.
/// </summary>
public sealed class StateRoot
{
    public const string EnvironmentVariable = "CASTRA_HOME";

    public StateRoot(string path)
        : this(path, StateRootOrigin.Explicit)
    {
    }

    private StateRoot(string path, StateRootOrigin origin)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new CastraException(ErrorIds.InvalidStateRoot, CastraErrorCategory.InvalidArgument, "The state root path is empty.");
        }

        Path = System.IO.Path.GetFullPath(path);
        Origin = origin;
    }

    public string Path { get; }

    /// <summary>How this root was chosen: said so in errors, since a typo in CASTRA_HOME looks like "no VMs".</summary>
    public StateRootOrigin Origin { get; }

    /// <summary>
    /// Refuses a state root that does not exist, instead of acting on nothing: "stop every VM" over a misspelt
    /// CASTRA_HOME, or a scheduled task without HOME, must not report success.
    /// </summary>
    /// <exception cref="CastraException">CastraStateRootNotFound.</exception>
    public void EnsureExists(Text.Wording? wording = null)
    {
        if (Directory.Exists(Path))
        {
            return;
        }

        wording ??= Text.Wording.Neutral;
        var how = Origin switch
        {
            StateRootOrigin.Environment => $"chosen by {EnvironmentVariable}",
            StateRootOrigin.Home => $"the default, ~/.castra, with HOME={(Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home ? home : "(unset)")}",
            _ => $"given with {wording.Name(Text.Term.StateRoot)}",
        };
        throw new CastraException(ErrorIds.StateRootNotFound, CastraErrorCategory.ObjectNotFound,
            $"The state root {Path} ({how}) does not exist, so there are no VMs to act on. Check the path, set {EnvironmentVariable} or " +
            $"{wording.Name(Text.Term.StateRoot)} to the right directory, or create it by starting a VM.")
        { Target = Path };
    }

    public string VmsDirectory => System.IO.Path.Combine(Path, "vms");

    /// <summary>Registered cleanup hooks (docs/hooks.md), replaced atomically.</summary>
    public string HooksFile => System.IO.Path.Combine(Path, "hooks.json");

    /// <summary>One line per completed shutdown (docs/state-layout.md).</summary>
    public string AuditFile => System.IO.Path.Combine(Path, "audit.ndjson");

    /// <summary>Explicit path, else $CASTRA_HOME, else ~/.castra. An explicit but empty path is an error, never the default.</summary>
    /// <exception cref="CastraException">CastraInvalidStateRoot.</exception>
    public static StateRoot Resolve(string? explicitPath = null)
    {
        if (explicitPath is not null)
        {
            // "--home $UNSET" must not silently act on the default root's VMs.
            return new StateRoot(ExpandHome(explicitPath), StateRootOrigin.Explicit);
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return new StateRoot(ExpandHome(fromEnvironment), StateRootOrigin.Environment);
        }

        return new StateRoot(System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".castra"), StateRootOrigin.Home);
    }

    public VmPaths Vm(string name) => new(this, VmName.Validate(name));

    /// <summary>
    /// Names of the VM directories present, sorted ordinally; entries that are not valid names, or neither a
    /// directory nor a link, are skipped. A link is listed so that opening it reports the refusal (it is never followed).
    /// </summary>
    /// <exception cref="CastraException">CastraUnsafeStateFile: the state root or vms/ is refused (a link, a file) or unreadable.</exception>
    public IReadOnlyList<string> ListVmNames()
    {
        try
        {
            using var root = StateDirectory.OpenPath(Path, create: false)?.RequireControlled();
            using var vms = root?.OpenSubdirectory("vms", create: false)?.RequireControlled();
            if (vms is null)
            {
                return [];
            }

            var names = vms.ListNames()
                .Where(name => VmName.IsValid(name) && vms.Stat(name) is { } stat && (stat.IsDirectory || stat.IsLink))
                .ToList();
            names.Sort(StringComparer.Ordinal);
            return names;
        }
        catch (IOException ex)
        {
            throw new CastraException(ErrorIds.UnsafeStateFile, CastraErrorCategory.PermissionDenied,
                $"The VMs under {Path} cannot be listed: {ex.Message}", ex) { Target = Path };
        }
    }

    /// <summary>The state root's own directory, opened (and created when asked) for hooks.json and audit.ndjson.</summary>
    /// <exception cref="UnsafeStateFileException">Not owned by root or the caller, or writable by others.</exception>
    internal StateDirectory? Open(bool create)
    {
        var dir = StateDirectory.OpenPath(Path, create);
        try
        {
            return dir?.RequireControlled();
        }
        catch
        {
            dir?.Dispose();
            throw;
        }
    }

    public override string ToString() => Path;

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
            : path;
}
