using System.Text.Json;
using Castra.Native;
using Castra.Serialization;
using Microsoft.Win32.SafeHandles;

namespace Castra.State;

/// <summary>
/// A VM's saved image (<c>saved-state.img</c>) and its record (<c>saved-state.json</c>), in the VM's own directory.
/// The image is written under a temporary name and renamed into place only once QEMU reported the migration complete
/// (the rename is the commit point: a half-written image is never taken for a good one); the record is written just
/// before that rename, so an image always has its record. Every file is reached through the open directory, no link
/// followed, and only files owned by root or the caller, with one link, are used.
/// </summary>
internal static class SavedStateStore
{
    public const string ImageName = "saved-state.img";
    public const string RecordName = "saved-state.json";
    public const string PartialName = ".saved-state.img.partial";

    /// <summary>The record is a few hundred bytes.</summary>
    private const int RecordBytes = 64 << 10;

    /// <summary>
    /// A new, empty 0600 file under the temporary name (a leftover of an interrupted save is removed first), opened
    /// for writing with O_EXCL | O_NOFOLLOW: whatever was planted at that name, nothing is written through it.
    /// </summary>
    /// <exception cref="IOException">It could not be created.</exception>
    public static SafeFileHandle CreatePartial(VmDirectory dir)
    {
        dir.Files.Delete(PartialName);
        var fd = Libc.openat(dir.Files.Descriptor, PartialName,
            Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, StateDirectory.PrivateFileMode);
        return fd >= 0
            ? new SafeFileHandle(fd, ownsHandle: true)
            : throw new IOException($"cannot create {dir.Files.PathOf(PartialName)}: {Libc.ErrorText(Libc.LastError)}");
    }

    /// <summary>
    /// Makes the written partial image the VM's saved image: flushed, its record written, renamed into place.
    /// Returns its size.
    /// </summary>
    /// <exception cref="IOException">Flushing, writing the record or renaming failed (the partial image is removed).</exception>
    public static long Commit(VmDirectory dir, SafeFileHandle partial, string fingerprint, string shutdownId)
    {
        try
        {
            if (Libc.fsync((int)partial.DangerousGetHandle()) != 0)
            {
                throw new IOException($"cannot flush {dir.Files.PathOf(PartialName)}: {Libc.ErrorText(Libc.LastError)}");
            }

            var size = RandomAccess.GetLength(partial);
            var record = new SavedStateRecord { Fingerprint = fingerprint, SavedAt = DateTime.UtcNow, ShutdownId = shutdownId, SizeBytes = size };
            dir.Files.Replace(RecordName, JsonSerializer.SerializeToUtf8Bytes(record, CastraJsonContext.Default.SavedStateRecord));
            if (Libc.renameat(dir.Files.Descriptor, PartialName, dir.Files.Descriptor, ImageName) != 0)
            {
                throw new IOException($"cannot rename {dir.Files.PathOf(PartialName)} to {ImageName}: {Libc.ErrorText(Libc.LastError)}");
            }

            return size;
        }
        catch
        {
            Abandon(dir);
            throw;
        }
    }

    /// <summary>Removes a partial image (a save that failed). Best effort.</summary>
    public static void Abandon(VmDirectory dir)
    {
        try
        {
            dir.Files.Delete(PartialName);
        }
        catch (IOException)
        {
            // Only space: the next save removes it first.
        }
    }

    /// <summary>True when the VM has a saved image (however damaged: a start then decides). Never follows a link.</summary>
    public static bool Exists(VmDirectory dir) => dir.Files.Stat(ImageName) is not null;

    /// <summary>
    /// The saved image's record, or null when there is no image. An image whose record is missing or unreadable
    /// has an empty fingerprint (it matches no definition: a start refuses it unless told to discard it).
    /// </summary>
    /// <exception cref="UnsafeStateFileException">The image or its record is a link, not a regular file, foreign-owned or hard-linked.</exception>
    public static SavedStateRecord? Find(VmDirectory dir)
    {
        using (var image = dir.Files.OpenForReading(ImageName, requireTrustedOwner: true, out _))
        {
            if (image is null)
            {
                return null;
            }
        }

        var content = dir.Files.ReadAll(RecordName, RecordBytes, requireTrustedOwner: true);
        if (content is null)
        {
            return new SavedStateRecord();
        }

        try
        {
            return JsonSerializer.Deserialize(content.Bytes, CastraJsonContext.Default.SavedStateRecord) ?? new SavedStateRecord();
        }
        catch (JsonException)
        {
            return new SavedStateRecord();
        }
    }

    /// <summary>The saved image, opened for reading (a link, FIFO, foreign-owned or hard-linked file is refused).</summary>
    /// <exception cref="IOException">Missing or refused.</exception>
    public static SafeFileHandle OpenImage(VmDirectory dir) =>
        dir.Files.OpenForReading(ImageName, requireTrustedOwner: true, out _)
        ?? throw new IOException($"{dir.Files.PathOf(ImageName)} disappeared");

    /// <summary>Removes the image, then its record (resumed, or discarded on request).</summary>
    /// <exception cref="IOException">Either could not be removed.</exception>
    public static void Remove(VmDirectory dir)
    {
        dir.Files.Delete(ImageName);
        dir.Files.Delete(RecordName);
    }
}
