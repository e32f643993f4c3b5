using System.Globalization;
using System.Runtime.InteropServices;
using Castra.Native;
using Microsoft.Win32.SafeHandles;

namespace Castra.State;

/// <summary>
/// One directory under the state root, held open by descriptor. Every file in it is opened relative to that
/// descriptor with O_NOFOLLOW (a link planted by whoever owns a VM directory is refused, never followed), non-blocking
/// (a FIFO cannot stall an open), checked on the open descriptor (a regular file, of bounded size, owned by root or
/// the caller before it is believed or written, not hard-linked before it is written), and created with explicit
/// private modes. Paths are kept for messages only.
/// </summary>
internal sealed class StateDirectory : IDisposable
{
    /// <summary>0600: every file Castra writes (status, events, hooks and their logs, sessions, audit, snapshots).</summary>
    public const int PrivateFileMode = 0x180;

    /// <summary>0700: hooks/ and sessions/ (their files carry hook arguments and output).</summary>
    public const int PrivateDirectoryMode = 0x1C0;

    /// <summary>0755: the state root, vms/ and VM directories, where a QEMU of another user may keep its files.</summary>
    public const int SharedDirectoryMode = 0x1ED;

    private readonly DirectoryHandle _handle;

    private StateDirectory(DirectoryHandle handle, string path, Libc.FileStat stat)
    {
        _handle = handle;
        Path = path;
        Owner = stat.Uid;
        Mode = stat.Mode & 0xFFF;
        Device = stat.Device;
    }

    /// <summary>The file system it is on (group commits flush each file system once).</summary>
    public ulong Device { get; }

    /// <summary>The descriptor's handle, for a collaborator that must keep it open past this object's disposal (DangerousAddRef).</summary>
    internal SafeHandle Handle => _handle;

    /// <summary>For messages; never reopened by this path.</summary>
    public string Path { get; }

    public uint Owner { get; }

    public bool OwnerTrusted => FileTrust.IsTrusted(Owner);

    /// <summary>
    /// Owned by root or the caller and writable by no one else: only then is what is in it theirs (in a directory its
    /// group or everyone may write, anyone can rename a file in or plant a link where a process opens a path).
    /// </summary>
    public bool Controlled => OwnerTrusted && (Mode & 0x12) == 0;

    /// <summary>Permission bits (rwx for user, group, others; setuid, setgid, sticky).</summary>
    public int Mode { get; }

    /// <summary>
    /// For the directories everything else rests on (the state root, vms/, locks/): owned by root or the caller and
    /// writable by no one else, or anyone could rename a VM's directory or lock away and put their own in its place.
    /// </summary>
    /// <exception cref="UnsafeStateFileException">Not so.</exception>
    public StateDirectory RequireControlled()
    {
        if (!OwnerTrusted)
        {
            throw new UnsafeStateFileException(Path, FileTrust.Untrusted(Owner));
        }

        if (!Controlled)
        {
            throw new UnsafeStateFileException(Path, WritableByOthersText);
        }

        return this;
    }

    /// <summary>Why a directory of a trusted owner is still refused (for messages).</summary>
    public string WritableByOthersText => string.Create(CultureInfo.InvariantCulture,
        $"is writable by its group or by everyone (mode {Convert.ToString(Mode & 0x1FF, 8)}): refused, since anyone who can write there could replace what Castra keeps in it (chmod go-w it)");

    /// <summary>The descriptor, for *at(2) calls of collaborators (valid while this object lives).</summary>
    public int Descriptor => (int)_handle.DangerousGetHandle();

    /// <summary>
    /// Opens a directory by a path the caller chose (the state root itself: links in that path are the caller's
    /// choice). Null when it does not exist and <paramref name="create"/> is false.
    /// </summary>
    public static StateDirectory? OpenPath(string path, bool create)
    {
        if (create && !Directory.Exists(path))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(path);
            }
            else
            {
                Directory.CreateDirectory(path, (UnixFileMode)SharedDirectoryMode);
            }
        }

        var fd = Libc.open(path, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            var errno = Libc.LastError;
            if (errno == Libc.ENOENT)
            {
                return null;
            }

            throw errno == Libc.ENOTDIR
                ? new UnsafeStateFileException(path, "is not a directory")
                : new IOException($"cannot open {path}: {Libc.ErrorText(errno)}");
        }

        return Wrap(fd, path);
    }

    /// <summary>
    /// Opens (or creates with <paramref name="mode"/>) a subdirectory without following a link. Null when it does
    /// not exist and <paramref name="create"/> is false.
    /// </summary>
    /// <param name="requireTrustedOwner">For directories whose content Castra believes (hooks/, sessions/).</param>
    /// <exception cref="UnsafeStateFileException">A link, not a directory, or (when required) foreign-owned.</exception>
    public StateDirectory? OpenSubdirectory(string name, bool create, int mode = SharedDirectoryMode, bool requireTrustedOwner = false)
    {
        CheckName(name);
        var path = PathOf(name);
        while (true)
        {
            var fd = Libc.openat(Descriptor, name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
            if (fd >= 0)
            {
                var dir = Wrap(fd, path);
                if (requireTrustedOwner && !dir.OwnerTrusted)
                {
                    var owner = dir.Owner;
                    dir.Dispose();
                    throw new UnsafeStateFileException(path, FileTrust.Untrusted(owner));
                }

                return dir;
            }

            var errno = Libc.LastError;
            if (errno == Libc.ENOENT && create)
            {
                if (Libc.mkdirat(Descriptor, name, mode) != 0 && Libc.LastError != Libc.EEXIST)
                {
                    throw new IOException($"cannot create {path}: {Libc.ErrorText(Libc.LastError)}");
                }

                continue;
            }

            if (errno == Libc.ENOENT)
            {
                return null;
            }

            throw Refusal(name, errno);
        }
    }

    /// <summary>lstat of an entry: null when it does not exist.</summary>
    public Libc.FileStat? Stat(string name)
    {
        CheckName(name);
        return Libc.LStatAt(Descriptor, name, out var stat) == 0 ? stat : null;
    }

    /// <summary>
    /// The whole content of a regular file of at most <paramref name="maxBytes"/>; null when it does not exist.
    /// </summary>
    /// <param name="requireTrustedOwner">Refuse a file not owned by root or the caller (anything Castra acts on).</param>
    /// <exception cref="UnsafeStateFileException">A link, FIFO, device, directory, too large, or foreign-owned.</exception>
    public StateFileContent? ReadAll(string name, int maxBytes, bool requireTrustedOwner)
    {
        using var handle = OpenForReading(name, requireTrustedOwner, out var stat);
        if (handle is null)
        {
            return null;
        }

        if (stat.Size > maxBytes)
        {
            throw TooLarge(name, stat.Size, maxBytes);
        }

        // The size may change under us: read at most one byte more than allowed to notice.
        var buffer = new byte[Math.Min((long)maxBytes + 1, Math.Max(stat.Size + 1, 4096))];
        var total = 0;
        while (true)
        {
            var n = Libc.ReadFull((int)handle.DangerousGetHandle(), buffer.AsSpan(total));
            if (n < 0)
            {
                throw new IOException($"cannot read {PathOf(name)}: {Libc.ErrorText(Libc.LastError)}");
            }

            total += n;
            if (total > maxBytes)
            {
                throw TooLarge(name, total, maxBytes);
            }

            if (total < buffer.Length)
            {
                break;
            }

            Array.Resize(ref buffer, (int)Math.Min((long)maxBytes + 1, buffer.Length * 2L));
        }

        return new StateFileContent(buffer.AsSpan(0, total).ToArray(), stat.Uid, stat.Nlink, (int)(stat.Mode & 0xFFF));
    }

    /// <summary>A read-only handle on a regular file (null when missing); <paramref name="stat"/> describes it.</summary>
    /// <exception cref="UnsafeStateFileException">A link, not a regular file, or foreign-owned when that is refused.</exception>
    public SafeFileHandle? OpenForReading(string name, bool requireTrustedOwner, out Libc.FileStat stat)
    {
        CheckName(name);
        var fd = Libc.openat(Descriptor, name, Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            var errno = Libc.LastError;
            stat = default;
            return errno == Libc.ENOENT ? null : throw Refusal(name, errno);
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            stat = Check(fd, name, requireTrustedOwner, forWriting: false);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a file Castra writes (created 0600 when missing): a regular file, owned by root or the caller, with a
    /// single link, whose mode is narrowed to 0600 if it was wider.
    /// </summary>
    /// <exception cref="UnsafeStateFileException">A link, FIFO, device, hard-linked or foreign-owned file.</exception>
    public SafeFileHandle OpenForWriting(string name, WriteMode mode)
    {
        CheckName(name);
        var flags = Libc.O_CREAT | Libc.O_NOFOLLOW | Libc.O_NONBLOCK | Libc.O_CLOEXEC
            | Libc.O_RDWR | (mode == WriteMode.Append ? Libc.O_APPEND : 0);
        var fd = Libc.openat(Descriptor, name, flags, PrivateFileMode);
        if (fd < 0)
        {
            throw Refusal(name, Libc.LastError);
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var stat = Check(fd, name, requireTrustedOwner: true, forWriting: true);
            if ((stat.Mode & 0xFFF) != PrivateFileMode)
            {
                _ = Libc.fchmod(fd, PrivateFileMode);
            }

            if (mode == WriteMode.Truncate && stat.Size > 0 && Libc.ftruncate(fd, 0) != 0)
            {
                throw new IOException($"cannot truncate {PathOf(name)}: {Libc.ErrorText(Libc.LastError)}");
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Replaces a file so readers see the old or the new content, never a torn write: a new 0600 file (O_EXCL,
    /// no link followed), written, fsynced when <paramref name="durable"/>, renamed over the old name (rename(2)
    /// replaces a planted link itself, it never writes through it).
    /// </summary>
    /// <param name="mode">The new file's mode, set explicitly (the umask does not narrow it): 0600 unless told.</param>
    public void Replace(string name, ReadOnlySpan<byte> content, bool durable = true, int mode = PrivateFileMode)
    {
        CheckName(name);
        var temp = string.Create(CultureInfo.InvariantCulture, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var fd = Libc.openat(Descriptor, temp, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, PrivateFileMode);
        if (fd < 0)
        {
            throw new IOException($"cannot create a file in {Path}: {Libc.ErrorText(Libc.LastError)}");
        }

        var renamed = false;
        try
        {
            if ((mode != PrivateFileMode && Libc.fchmod(fd, mode) != 0) || Libc.WriteFull(fd, content) < 0 || (durable && Libc.fsync(fd) != 0))
            {
                throw new IOException($"cannot write {PathOf(name)}: {Libc.ErrorText(Libc.LastError)}");
            }

            if (Libc.renameat(Descriptor, temp, Descriptor, name) != 0)
            {
                throw new IOException($"cannot replace {PathOf(name)}: {Libc.ErrorText(Libc.LastError)}");
            }

            renamed = true;
        }
        finally
        {
            _ = Libc.close(fd);
            if (!renamed)
            {
                _ = Libc.unlinkat(Descriptor, temp, 0);
            }
        }
    }

    /// <summary>
    /// Removes the temporary files <see cref="Replace"/> left when process <paramref name="pid"/> died between creating
    /// and renaming one (never read by anyone, but they would pile up). Best effort.
    /// </summary>
    public void RemoveTemporariesOf(int pid)
    {
        var marker = string.Create(CultureInfo.InvariantCulture, $".{pid}.");
        foreach (var name in ListNames().Where(n => n.StartsWith('.') && n.EndsWith(".tmp", StringComparison.Ordinal) && n.Contains(marker, StringComparison.Ordinal)))
        {
            _ = Libc.unlinkat(Descriptor, name, 0);
        }
    }

    /// <summary>Removes an entry (never following it). False when it did not exist.</summary>
    public bool Delete(string name)
    {
        CheckName(name);
        if (Libc.unlinkat(Descriptor, name, 0) == 0)
        {
            return true;
        }

        var errno = Libc.LastError;
        return errno == Libc.ENOENT ? false : throw new IOException($"cannot remove {PathOf(name)}: {Libc.ErrorText(errno)}");
    }

    /// <summary>The names in this directory (links included: each is checked when opened).</summary>
    public IReadOnlyList<string> ListNames()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries(ProcPath(null)).Select(p => System.IO.Path.GetFileName(p)).ToList();
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>
    /// /proc/self/fd/N[/name]: a path through this very directory, for the calls that take only paths (connect(2) on
    /// a socket, listing). Short, so socket paths never reach the 108-byte sun_path limit.
    /// </summary>
    public string ProcPath(string? name)
    {
        var dir = string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{Descriptor}");
        if (name is null)
        {
            return dir;
        }

        CheckName(name);
        return dir + "/" + name;
    }

    public string PathOf(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => _handle.Dispose();

    private static StateDirectory Wrap(int fd, string path)
    {
        var handle = new DirectoryHandle(fd);
        if (Libc.FStat(fd, out var stat) != 0)
        {
            var errno = Libc.LastError;
            handle.Dispose();
            throw new IOException($"cannot examine {path}: {Libc.ErrorText(errno)}");
        }

        return new StateDirectory(handle, path, stat);
    }

    private Libc.FileStat Check(int fd, string name, bool requireTrustedOwner, bool forWriting)
    {
        if (Libc.FStat(fd, out var stat) != 0)
        {
            throw new IOException($"cannot examine {PathOf(name)}: {Libc.ErrorText(Libc.LastError)}");
        }

        if (!stat.IsRegular)
        {
            throw new UnsafeStateFileException(PathOf(name), $"is {KindOf(stat)}, not a regular file: refused");
        }

        if (requireTrustedOwner && !FileTrust.IsTrusted(stat.Uid))
        {
            throw new UnsafeStateFileException(PathOf(name), FileTrust.Untrusted(stat.Uid));
        }

        // A second name could be anywhere on the file system: never written through, and never believed (a hard link
        // of another VM's root-owned vm.json would otherwise lend it that VM's identity proof).
        if ((forWriting || requireTrustedOwner) && stat.Nlink > 1)
        {
            throw new UnsafeStateFileException(PathOf(name), string.Create(CultureInfo.InvariantCulture,
                $"has {stat.Nlink} hard links: Castra neither writes nor believes a file that is also reachable elsewhere; remove it"));
        }

        return stat;
    }

    private IOException Refusal(string name, int errno)
    {
        // O_NOFOLLOW reports a final link as ELOOP, or as ENOTDIR together with O_DIRECTORY: lstat says which it is.
        if (errno is Libc.ELOOP or Libc.ENOTDIR && Stat(name) is { IsLink: true })
        {
            return new UnsafeStateFileException(PathOf(name), "is a symbolic link: Castra never follows links under the state root; remove it");
        }

        return errno switch
        {
            Libc.ENOTDIR => new UnsafeStateFileException(PathOf(name), "is not a directory: refused"),
            6 /* ENXIO: a FIFO without a reader, a socket */ => new UnsafeStateFileException(PathOf(name), "is not a regular file (FIFO or socket): refused"),
            _ => new IOException($"cannot open {PathOf(name)}: {Libc.ErrorText(errno)}"),
        };
    }

    private UnsafeStateFileException TooLarge(string name, long size, int max) =>
        new(PathOf(name), string.Create(CultureInfo.InvariantCulture, $"is {size} bytes, more than the {max} bytes Castra reads from it: refused"));

    private static string KindOf(Libc.FileStat stat) => stat.Type switch
    {
        Libc.S_IFDIR => "a directory",
        Libc.S_IFIFO => "a FIFO",
        Libc.S_IFSOCK => "a socket",
        Libc.S_IFLNK => "a symbolic link",
        0x2000 => "a character device",
        0x6000 => "a block device",
        _ => "not a regular file",
    };

    private static void CheckName(string name)
    {
        if (name.Length == 0 || name == "." || name == ".." || name.Contains('/', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a single file name", nameof(name));
        }
    }

    /// <summary>How <see cref="OpenForWriting"/> treats existing content.</summary>
    public enum WriteMode
    {
        /// <summary>Keep it (a lock file).</summary>
        Keep,

        /// <summary>Empty it (a per-run log).</summary>
        Truncate,

        /// <summary>O_APPEND: every write(2) lands at the end (journals, the audit trail).</summary>
        Append,
    }

    private sealed class DirectoryHandle : SafeHandleMinusOneIsInvalid
    {
        public DirectoryHandle(int fd)
            : base(ownsHandle: true) => SetHandle(fd);

        protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
    }
}
