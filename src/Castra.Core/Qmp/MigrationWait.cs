using System.Diagnostics;

namespace Castra.Qmp;

/// <summary>
/// Waits, bounded, for the migration on <paramref name="qmp"/> to end: query-migrate, and between two queries the
/// next MIGRATION event (the <c>events</c> capability is set before the migration starts), never a sleep-poll. The
/// answer is QEMU's, so it is checked like any other reply: a status that is not a string is a malformed reply.
/// </summary>
internal static class MigrationWait
{
    /// <summary>A wait for the next MIGRATION event never longer than this, in case QEMU sends none (older builds).</summary>
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>Turns on QEMU's MIGRATION events, which <see cref="UntilEndAsync"/> waits on: set before a migration starts.</summary>
    /// <exception cref="QmpException">The channel failed or QEMU refused.</exception>
    public static Task EnableEventsAsync(QmpClient qmp, TimeSpan replyTimeout, CancellationToken cancellationToken) =>
        qmp.RunAsync("migrate-set-capabilities", w =>
        {
            w.WriteStartArray("capabilities");
            w.WriteStartObject();
            w.WriteString("capability", "events");
            w.WriteBoolean("state", true);
            w.WriteEndObject();
            w.WriteEndArray();
        }, replyTimeout, cancellationToken);

    /// <exception cref="QmpException">The channel failed or QEMU answered query-migrate with a malformed reply.</exception>
    public static async Task<MigrationEnd> UntilEndAsync(QmpClient qmp, TimeSpan timeout, TimeSpan replyTimeout, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        TimeSpan Left() => timeout - Stopwatch.GetElapsedTime(start);
        while (true)
        {
            // Registered before asking: a change between the answer and the wait is not missed.
            var changed = qmp.NextEvent("MIGRATION");
            if (Left() <= TimeSpan.Zero)
            {
                return new MigrationEnd(false, true, null);
            }

            var cap = Min(replyTimeout, Left());
            string? status;
            string? error;
            try
            {
                (status, error) = await QueryAsync(qmp, cap, cancellationToken).ConfigureAwait(false);
            }
            catch (QmpException ex) when (ex.Kind == QmpErrorKind.ReplyTimeout && cap < replyTimeout)
            {
                // The wait's own budget bounded this reply, so the budget ran out (timers end on whole milliseconds:
                // the budget may still show a fraction of one left, which must not make this a channel error).
                return new MigrationEnd(false, true, null);
            }

            switch (status)
            {
                case "completed":
                    return new MigrationEnd(true, false, null);
                case "failed" or "cancelled":
                    return new MigrationEnd(false, false, error is null ? $"QEMU reports the migration {status}" : $"QEMU reports the migration {status}: {error}");
            }

            try
            {
                await changed.WaitAsync(SocketSteps.Clamp(Min(RecheckInterval, Left())), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Look again (or give up at the top when the budget is spent).
            }
        }
    }

    private static async Task<(string? Status, string? Error)> QueryAsync(QmpClient qmp, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var reply = await qmp.ExecuteAsync("query-migrate", timeout, cancellationToken).ConfigureAwait(false);
        if (!ChannelJson.TryGetMember(reply.Return, "status", out var statusElement))
        {
            return (null, null); // Not started yet: {} is QEMU's answer before the first state change.
        }

        var status = ChannelJson.AsString(statusElement);
        if (status is null || status.Length > 32 || !status.All(c => char.IsAsciiLetterLower(c) || c == '-'))
        {
            throw new QmpException(QmpErrorKind.MalformedMessage, $"QEMU answered query-migrate with a malformed reply (its status is not a migration state name): {reply.Excerpt}");
        }

        string? error = null;
        if (ChannelJson.TryGetMember(reply.Return, "error-desc", out var errorElement) && ChannelJson.AsString(errorElement) is { } text)
        {
            error = ChannelText.Printable(text);
        }

        return (status, error);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
