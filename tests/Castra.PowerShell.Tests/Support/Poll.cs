using System.Diagnostics;

namespace Castra.PowerShell.Tests.Support;

/// <summary>Waits for a condition; the timeout only bounds how long a broken test hangs (no timing is asserted).</summary>
public static class Poll
{
    public static void Until(Func<bool> condition, string what, double timeoutSeconds = 30)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed.TotalSeconds > timeoutSeconds)
            {
                throw new TimeoutException($"timed out after {timeoutSeconds} s waiting for {what}");
            }

            Thread.Sleep(20);
        }
    }
}
