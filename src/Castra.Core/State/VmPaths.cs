using System.Text;
using Castra.Errors;

namespace Castra.State;

/// <summary>The documented files of one VM directory, <c>&lt;root&gt;/vms/&lt;name&gt;/</c> (docs/state-layout.md).</summary>
public sealed class VmPaths
{
    /// <summary>sockaddr_un.sun_path holds 108 bytes including the terminating NUL.</summary>
    public const int MaxSocketPathBytes = 107;

    internal VmPaths(StateRoot root, string name)
    {
        Root = root;
        Name = name;
        Directory = Path.Combine(root.VmsDirectory, name);
    }

    public StateRoot Root { get; }

    public string Name { get; }

    public string Directory { get; }

    /// <summary>QEMU's <c>-pidfile</c>.</summary>
    public string PidFile => Path.Combine(Directory, "qemu.pid");

    /// <summary>QEMU's <c>-qmp unix:…,server=on,wait=off</c>.</summary>
    public string QmpSocket => Path.Combine(Directory, "qmp.sock");

    /// <summary>The guest agent's chardev socket (optional).</summary>
    public string AgentSocket => Path.Combine(Directory, "qga.sock");

    /// <summary>The VM's definition (optional): per-VM timeouts, recorded process start time.</summary>
    public string Definition => Path.Combine(Directory, "vm.json");

    /// <summary>Status of the current or last shutdown; replaced atomically.</summary>
    public string Status => Path.Combine(Directory, "shutdown.json");

    /// <summary>Append-only event journal, one JSON event per line.</summary>
    public string Journal => Path.Combine(Directory, "events.ndjson");

    /// <summary>flock(2)ed exclusively by the process orchestrating a shutdown (or starting the VM): <c>&lt;root&gt;/locks/&lt;name&gt;</c>.</summary>
    public string LockFile => Path.Combine(Root.Path, VmDirectory.LocksDirectoryName, Name);

    public bool Exists => System.IO.Directory.Exists(Directory);

    /// <summary>Fails clearly when a socket path cannot be bound or connected (sun_path limit), instead of a QEMU error.</summary>
    /// <exception cref="CastraException">ErrorId CastraSocketPathTooLong.</exception>
    public void EnsureSocketPathsFit(Text.Wording? wording = null)
    {
        wording ??= Text.Wording.Neutral;
        foreach (var socket in new[] { QmpSocket, AgentSocket })
        {
            var length = Encoding.UTF8.GetByteCount(socket);
            if (length > MaxSocketPathBytes)
            {
                throw new CastraException(
                    ErrorIds.SocketPathTooLong,
                    CastraErrorCategory.InvalidArgument,
                    $"The socket path '{socket}' is {length} bytes; Unix sockets allow at most {MaxSocketPathBytes}. " +
                    $"Use a shorter state root (CASTRA_HOME or {wording.Name(Text.Term.StateRoot)}) or a shorter VM name.")
                {
                    Target = Name,
                };
            }
        }
    }
}
