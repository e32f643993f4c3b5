using System.Text.Json;
using Castra.Errors;
using Castra.Serialization;
using Castra.State;

namespace Castra.Hooks;

/// <summary>
/// The registered hooks of one state root, in <c>hooks.json</c> (replaced atomically; changes serialized by a
/// lock file), so every session, the CLI and scheduled tasks see the same hooks.
/// </summary>
public sealed class HookStore
{
    public HookStore(StateRoot root, Text.Wording? wording = null)
    {
        Root = root;
        Wording = wording ?? Text.Wording.Neutral;
    }

    /// <summary>How the calling face spells the options its messages name.</summary>
    public Text.Wording Wording { get; }

    public StateRoot Root { get; }

    private const string FileName = "hooks.json";
    private const string LockName = "hooks.json.lock";

    /// <summary>Validates, resolves the program to an absolute path, and stores the hook.</summary>
    /// <param name="replace">Replace a hook of the same name and scope instead of refusing (-Force).</param>
    /// <exception cref="CastraException">CastraInvalidHook, CastraInvalidTimeout, CastraHookExecutableNotFound, CastraHookExists.</exception>
    public CleanupHook Register(HookRegistration registration, bool replace = false)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var hook = HookValidation.Resolve(registration, Root.Path);
        using var dir = OpenRoot(create: true)!;
        using var _ = Locked(dir);
        var file = LoadForChange(dir);
        var existing = file.Hooks.FindIndex(h => SameKey(h, hook.Name, hook.VmName));
        if (existing >= 0 && !replace)
        {
            throw new CastraException(ErrorIds.HookExists, CastraErrorCategory.ResourceExists,
                $"A hook named '{hook.Name}' is already registered for {ScopeText(hook.VmName)}; use {Wording.Name(Text.Term.ReplaceHook)} to replace it, or choose another name.")
            { Target = hook.Name };
        }

        if (existing >= 0)
        {
            file.Hooks[existing] = hook;
        }
        else
        {
            file.Hooks.Add(hook);
        }

        Save(dir, file);
        return hook;
    }

    /// <summary>Removes a hook. <paramref name="vmName"/> null: the name must be unambiguous across scopes.</summary>
    /// <exception cref="CastraException">CastraHookNotFound, CastraHookAmbiguous.</exception>
    public CleanupHook Unregister(string name, string? vmName = null)
    {
        using var dir = OpenRoot(create: false);
        using var _ = dir is null ? null : Locked(dir);
        var file = dir is null ? new HookFile() : LoadForChange(dir);
        var matches = file.Hooks.Where(h => h.Name == name && (vmName is null || h.VmName == vmName)).ToList();
        if (matches.Count == 0)
        {
            throw new CastraException(ErrorIds.HookNotFound, CastraErrorCategory.ObjectNotFound,
                $"No hook named '{name}'{(vmName is null ? "" : $" for {ScopeText(vmName)}")} is registered under {Root.Path}.")
            { Target = name };
        }

        if (matches.Count > 1)
        {
            throw new CastraException(ErrorIds.HookAmbiguous, CastraErrorCategory.InvalidArgument,
                $"Hooks named '{name}' exist for {string.Join(" and ", matches.Select(m => ScopeText(m.VmName)))}; say which ({Wording.Name(Text.Term.HookVm)}).")
            { Target = name };
        }

        file.Hooks.Remove(matches[0]);
        Save(dir!, file);
        return matches[0];
    }

    /// <summary>Every usable registered hook, ordered by stage, priority, name (damaged entries are left out).</summary>
    /// <exception cref="CastraException">CastraInvalidHook: hooks.json is unreadable, unsafe or not a hook file.</exception>
    public IReadOnlyList<CleanupHook> List() => Order(Load().File.Hooks);

    /// <summary>Like <see cref="List"/>, with one line per damaged entry that was left out.</summary>
    internal HookFileLoad Load()
    {
        using var dir = OpenRoot(create: false);
        return dir is null ? new HookFileLoad(new HookFile(), []) : Load(dir);
    }

    /// <summary><see cref="Load()"/> through a state root the caller holds open (a shutdown's VM directory holds its root).</summary>
    internal HookFileLoad LoadFrom(StateDirectory root) => Load(root);

    /// <summary>
    /// The hooks one VM's shutdown runs at a stage: its own and the <c>*</c> ones, a VM's own hook replacing a
    /// <c>*</c> hook of the same name whatever the stages of the two (the winner is chosen by name first, then
    /// kept only if it is of this stage); ordered by priority, then name.
    /// </summary>
    public IReadOnlyList<CleanupHook> ForVm(string vmName, HookStage stage) => ForVm(Load().File.Hooks, vmName, stage);

    /// <summary><see cref="ForVm(string, HookStage)"/> over hooks already loaded (one read of hooks.json per shutdown).</summary>
    internal static IReadOnlyList<CleanupHook> ForVm(IEnumerable<CleanupHook> hooks, string vmName, HookStage stage)
    {
        var chosen = hooks
            .Where(h => h.AppliesTo(vmName))
            .GroupBy(h => h.Name, StringComparer.Ordinal)
            .Select(g => g.FirstOrDefault(h => h.VmName != HookScope.AllVms) ?? g.First())
            .Where(h => h.StageValue == stage);
        return Order(chosen);
    }

    private static List<CleanupHook> Order(IEnumerable<CleanupHook> hooks) =>
        hooks.OrderBy(h => h.StageValue).ThenBy(h => h.Priority).ThenBy(h => h.Name, StringComparer.Ordinal).ThenBy(h => h.VmName, StringComparer.Ordinal).ToList();

    private static bool SameKey(CleanupHook hook, string name, string vmName) => hook.Name == name && hook.VmName == vmName;

    private static string ScopeText(string vmName) => vmName == HookScope.AllVms ? "every VM (*)" : $"VM '{vmName}'";

    private StateDirectory? OpenRoot(bool create)
    {
        try
        {
            return Root.Open(create);
        }
        catch (IOException ex)
        {
            throw Unreadable(ex.Message, ex);
        }
    }

    /// <summary>Registration and removal rewrite the file: they refuse one with damaged entries rather than drop them.</summary>
    private HookFile LoadForChange(StateDirectory dir)
    {
        var load = Load(dir);
        if (load.Ignored.Count > 0)
        {
            throw Unreadable($"{Root.HooksFile} has damaged entries ({string.Join("; ", load.Ignored)}); fix or remove them before changing hooks.", null);
        }

        return load.File;
    }

    private HookFileLoad Load(StateDirectory dir)
    {
        StateFileContent? content;
        try
        {
            // Hooks run as whoever runs the shutdown (root at host shutdown): only root's or the caller's file counts.
            content = dir.ReadAll(FileName, StateLimits.HooksBytes, requireTrustedOwner: true);
        }
        catch (IOException ex)
        {
            throw Unreadable($"{ex.Message}; fix or remove it.", ex);
        }

        if (content is null)
        {
            return new HookFileLoad(new HookFile(), []);
        }

        HookFile file;
        try
        {
            file = JsonSerializer.Deserialize(content.Bytes, CastraIndentedJsonContext.Default.HookFile) ?? new HookFile();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or NotSupportedException)
        {
            throw Unreadable($"{Root.HooksFile} is not valid ({ex.Message}); fix or remove it.", ex);
        }

        if (file.Version > HookFile.CurrentVersion)
        {
            throw Unreadable(
                $"{Root.HooksFile} has format version {file.Version}, written by a newer Castra (this one reads up to {HookFile.CurrentVersion}); use that Castra to manage the hooks.", null);
        }

        var usable = new List<CleanupHook>();
        var ignored = new List<string>();
        if (file.Hooks is null)
        {
            ignored.Add("its Hooks list is missing or null: no hooks");
        }

        var entries = file.Hooks ?? [];
        for (var i = 0; i < entries.Count; i++)
        {
            if (StoredHookCheck.Problem(entries[i]) is { } problem)
            {
                var name = entries[i]?.Name is { Length: > 0 and <= 64 } n ? $" ('{n}')" : "";
                ignored.Add($"entry {i + 1}{name} ignored: {problem}");
                continue;
            }

            usable.Add(entries[i] with { StateRoot = Root.Path });
        }

        return new HookFileLoad(new HookFile { Version = file.Version, Hooks = usable }, ignored);
    }

    private CastraException Unreadable(string message, Exception? inner) =>
        new(ErrorIds.InvalidHook, CastraErrorCategory.InvalidData, message, inner) { Target = Root.HooksFile };

    private void Save(StateDirectory dir, HookFile file)
    {
        try
        {
            dir.Replace(FileName, JsonSerializer.SerializeToUtf8Bytes(file, CastraIndentedJsonContext.Default.HookFile));
        }
        catch (IOException ex)
        {
            throw Failed(ex);
        }
    }

    /// <summary>hooks.json.lock, taken like every state file (a link or another user's file is refused).</summary>
    private FileLock Locked(StateDirectory dir)
    {
        try
        {
            return FileLock.Acquire(dir, LockName);
        }
        catch (IOException ex)
        {
            throw Failed(ex);
        }
    }

    private CastraException Failed(IOException ex) => ex is UnsafeStateFileException
        ? new CastraException(ErrorIds.UnsafeStateFile, CastraErrorCategory.PermissionDenied, ex.Message, ex) { Target = Root.HooksFile }
        : new CastraException(ErrorIds.Unexpected, CastraErrorCategory.WriteError, ex.Message, ex) { Target = Root.HooksFile };
}
