namespace Castra.State;

/// <summary>A state file's bytes and its owner (whether it may be believed: <see cref="FileTrust"/>).</summary>
internal sealed record StateFileContent(byte[] Bytes, uint Owner)
{
    public bool OwnerTrusted => FileTrust.IsTrusted(Owner);
}
