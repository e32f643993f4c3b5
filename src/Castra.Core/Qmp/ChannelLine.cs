namespace Castra.Qmp;

/// <summary>
/// One line read from a channel, without its terminator. When <see cref="Oversized"/> is set the line exceeded the
/// reader's cap: <see cref="Bytes"/> holds only its start (for a Detail) and the rest is discarded unread.
/// </summary>
internal readonly record struct ChannelLine(ReadOnlyMemory<byte> Bytes, bool Oversized);
