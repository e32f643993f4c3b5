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
    public HookStore(StateRoot root) => Root = root;

    public StateRoot Root { get; }

    private string LockPath => Root.HooksFile + ".lock";

    /// <summary>Validates, resolves the program to an absolute path, and stores the hook.</summary>
    /// <param name="replace">Replace a hook of the same name and scope instead of refusing (-Force).</param>
    /// <exception cref="CastraException">CastraInvalidHook, CastraInvalidTimeout, CastraHookExecutableNotFound, CastraHookExists.</exception>
    public CleanupHook Register(HookRegistration registration, bool replace = false)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var hook = HookValidation.Resolve(registration, Root.Path);
        using var _ = FileLock.Acquire(LockPath);
        var file = Load();
        var existing = file.Hooks.FindIndex(h => SameKey(h, hook.Name, hook.VmName));
        if (existing >= 0 && !replace)
        {
            throw new CastraException(ErrorIds.HookExists, CastraErrorCategory.ResourceExists,
                $"A hook named '{hook.Name}' is already registered for {ScopeText(hook.VmName)}; use -Force (--force) to replace it, or choose another name.")
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

        Save(file);
        return hook;
    }

    /// <summary>Removes a hook. <paramref name="vmName"/> null: the name must be unambiguous across scopes.</summary>
    /// <exception cref="CastraException">CastraHookNotFound, CastraHookAmbiguous.</exception>
    public CleanupHook Unregister(string name, string? vmName = null)
    {
        using var _ = FileLock.Acquire(LockPath);
        var file = Load();
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
                $"Hooks named '{name}' exist for {string.Join(" and ", matches.Select(m => ScopeText(m.VmName)))}; say which (-VmName, --vm).")
            { Target = name };
        }

        file.Hooks.Remove(matches[0]);
        Save(file);
        return matches[0];
    }

    /// <summary>Every registered hook, ordered by stage, priority, name.</summary>
    public IReadOnlyList<CleanupHook> List() => Order(Load().Hooks);

    /// <summary>
    /// The hooks one VM's shutdown runs at a stage: its own and the <c>*</c> ones, a VM's own hook replacing a
    /// <c>*</c> hook of the same name whatever the stages of the two (the winner is chosen by name first, then
    /// kept only if it is of this stage); ordered by priority, then name.
    /// </summary>
    public IReadOnlyList<CleanupHook> ForVm(string vmName, HookStage stage)
    {
        var chosen = Load().Hooks
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

    private HookFile Load()
    {
        string text;
        try
        {
            text = File.ReadAllText(Root.HooksFile);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return new HookFile();
        }

        try
        {
            var file = JsonSerializer.Deserialize(text, CastraIndentedJsonContext.Default.HookFile) ?? new HookFile();
            if (file.Version > HookFile.CurrentVersion)
            {
                throw new CastraException(ErrorIds.InvalidHook, CastraErrorCategory.InvalidData,
                    $"{Root.HooksFile} has format version {file.Version}, written by a newer Castra (this one reads up to {HookFile.CurrentVersion}); use that Castra to manage the hooks.")
                { Target = Root.HooksFile };
            }

            file.Hooks = file.Hooks.Select(h => h with { StateRoot = Root.Path }).ToList();
            return file;
        }
        catch (JsonException ex)
        {
            throw new CastraException(ErrorIds.InvalidHook, CastraErrorCategory.InvalidData,
                $"{Root.HooksFile} is not valid ({ex.Message}); fix or remove it.", ex)
            { Target = Root.HooksFile };
        }
    }

    private void Save(HookFile file)
    {
        Directory.CreateDirectory(Root.Path);
        AtomicFile.WriteAllText(Root.HooksFile, JsonSerializer.Serialize(file, CastraIndentedJsonContext.Default.HookFile));
    }
}
