using System.Text;
using Castra.Errors;
using Castra.State;

namespace Castra.HostShutdown;

/// <summary>
/// Writes and removes the unit file in its directory, held open by descriptor: never through a link (O_NOFOLLOW;
/// rename(2) replaces a planted link itself), atomically (a new file renamed over the old name, fsynced, mode 0644 as
/// systemd expects of a unit), and only a file Castra wrote (its first line is <see cref="HostShutdownUnit.Marker"/>)
/// unless told to replace another.
/// </summary>
public static class UnitFileStore
{
    /// <summary>A unit file is a few hundred bytes; anything larger is not one Castra wrote.</summary>
    private const int MaxUnitBytes = 64 * 1024;

    /// <summary>0644: systemd reads unit files as any user may (systemd-analyze warns about world-writable ones).</summary>
    private const int UnitFileMode = 0x1A4;

    /// <summary>What is at the unit's path now.</summary>
    public enum Existing
    {
        None,
        Ours,
        Foreign,
    }

    /// <summary>Writes <paramref name="unit"/>; returns what was there before.</summary>
    /// <param name="replaceForeign">Replace a file Castra did not write (-Force, --force).</param>
    /// <exception cref="CastraException">CastraHostShutdownUnitForeign, CastraUnsafeStateFile (a link, not a regular file), or a write failure.</exception>
    public static Existing Install(HostShutdownUnit unit, bool replaceForeign, Text.Wording wording)
    {
        ArgumentNullException.ThrowIfNull(unit);
        ArgumentNullException.ThrowIfNull(wording);
        return Guard(unit.Path, () =>
        {
            using var dir = OpenDirectory(unit.Path, create: true) ?? throw new IOException($"cannot create {System.IO.Path.GetDirectoryName(unit.Path)}");
            var existing = Inspect(dir, unit.UnitName);
            if (existing == Existing.Foreign && !replaceForeign)
            {
                throw new CastraException(ErrorIds.HostShutdownUnitForeign, CastraErrorCategory.ResourceExists,
                    $"{unit.Path} exists and was not written by Castra: left as it is (use {wording.Name(Text.Term.ReplaceUnit)} to replace it)")
                {
                    Target = unit.Path,
                };
            }

            dir.Replace(unit.UnitName, Encoding.UTF8.GetBytes(unit.Text), durable: true, mode: UnitFileMode);
            return existing;
        });
    }

    /// <summary>What is at the unit's path (a link or other non-file is refused with CastraUnsafeStateFile).</summary>
    public static Existing Examine(string unitDirectory, string unitName) =>
        Guard(Path.Combine(unitDirectory, unitName), () =>
        {
            using var dir = OpenDirectory(Path.Combine(unitDirectory, unitName), create: false);
            return dir is null ? Existing.None : Inspect(dir, unitName);
        });

    /// <summary>Deletes the unit file if Castra wrote it.</summary>
    /// <exception cref="CastraException">CastraHostShutdownUnitNotFound, CastraHostShutdownUnitForeign, CastraUnsafeStateFile.</exception>
    public static void Remove(string unitDirectory, string unitName)
    {
        var path = Path.Combine(unitDirectory, unitName);
        Guard(path, () =>
        {
            using var dir = OpenDirectory(path, create: false);
            switch (dir is null ? Existing.None : Inspect(dir, unitName))
            {
                case Existing.None:
                    throw new CastraException(ErrorIds.HostShutdownUnitNotFound, CastraErrorCategory.ObjectNotFound, $"there is no {path}: nothing to remove") { Target = path };
                case Existing.Foreign:
                    throw new CastraException(ErrorIds.HostShutdownUnitForeign, CastraErrorCategory.InvalidOperation,
                        $"{path} was not written by Castra: left as it is (remove it yourself if it is no longer wanted)") { Target = path };
            }

            _ = dir!.Delete(unitName);
            return true;
        });
    }

    /// <summary>
    /// Deletes <c>multi-user.target.wants/NAME</c> under the unit directory when it is a symbolic link to the unit (as
    /// <c>systemctl enable</c> makes it, relative or absolute); anything else there is left alone. Best effort.
    /// </summary>
    public static void RemoveWantsLink(string unitDirectory, string unitName)
    {
        try
        {
            using var units = OpenDirectory(Path.Combine(unitDirectory, unitName), create: false);
            using var wants = units?.OpenSubdirectory("multi-user.target.wants", create: false)?.RequireControlled();
            if (wants?.Stat(unitName) is not { IsLink: true })
            {
                return;
            }

            var target = new FileInfo(wants.ProcPath(unitName)).LinkTarget;
            if (target is not null && (target == Path.Combine(unitDirectory, unitName) || target == "../" + unitName))
            {
                _ = wants.Delete(unitName);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CastraException)
        {
            // The unit file is gone; a dangling wants link only makes systemd log that the unit does not exist.
        }
    }

    private static StateDirectory? OpenDirectory(string unitPath, bool create)
    {
        var directory = Path.GetDirectoryName(unitPath)!;
        var dir = StateDirectory.OpenPath(directory, create);
        try
        {
            // Whoever can write the directory can swap the file between our check and systemd's read: only root's or ours.
            return dir?.RequireControlled();
        }
        catch
        {
            dir?.Dispose();
            throw;
        }
    }

    private static Existing Inspect(StateDirectory dir, string name)
    {
        var content = dir.ReadAll(name, MaxUnitBytes, requireTrustedOwner: false);
        if (content is null)
        {
            return Existing.None;
        }

        var text = Encoding.UTF8.GetString(content.Bytes);

        // Ours only if root or the caller owns it too: a file another user planted with our first line is not ours.
        return text.StartsWith(HostShutdownUnit.Marker + "\n", StringComparison.Ordinal) && content.OwnerTrusted
            ? Existing.Ours
            : Existing.Foreign;
    }

    /// <summary>File-system refusals as the stable error the faces report, the path as the target.</summary>
    private static T Guard<T>(string path, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (UnsafeStateFileException ex)
        {
            throw new CastraException(ErrorIds.UnsafeStateFile, CastraErrorCategory.SecurityError, ex.Message, ex) { Target = path };
        }
        catch (IOException ex)
        {
            throw new CastraException(ErrorIds.Unexpected, CastraErrorCategory.WriteError, ex.Message, ex) { Target = path };
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new CastraException(ErrorIds.Unexpected, CastraErrorCategory.PermissionDenied, $"{path}: {ex.Message}", ex) { Target = path };
        }
    }
}
