namespace Castra.State;

/// <summary>A state file's bytes, its owner, link count and permission bits (whether it may be believed: <see cref="FileTrust"/>).</summary>
internal sealed record StateFileContent(byte[] Bytes, uint Owner, uint Links, int Mode)
{
    /// <summary>
    /// Owned by root or the caller, reachable by this one name only (not a hard link of a file elsewhere), and writable
    /// by no one else (a root-owned file that is chmod 666 says whatever anyone wrote into it).
    /// </summary>
    public bool OwnerTrusted => FileTrust.IsTrusted(Owner) && Links == 1 && (Mode & 0x12) == 0;
}
