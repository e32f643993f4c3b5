namespace Castra.State;

/// <summary>A state file's bytes, its owner and its link count (whether it may be believed: <see cref="FileTrust"/>).</summary>
internal sealed record StateFileContent(byte[] Bytes, uint Owner, uint Links)
{
    /// <summary>Owned by root or the caller, and reachable by this one name only (not a hard link of a file elsewhere).</summary>
    public bool OwnerTrusted => FileTrust.IsTrusted(Owner) && Links == 1;
}
