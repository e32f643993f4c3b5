namespace Castra.Tests.Support;

/// <summary>
/// The castra binary the tests run: the native one `./build.sh build` publishes (out/castra/castra), the file users
/// run. CASTRA_CLI names another executable instead (no staleness check then). There is no fallback to
/// `dotnet castra.dll`: a missing or stale native binary fails the tests that start the CLI, saying how to build it,
/// so CI can never pass against a build other than the one it ships.
/// </summary>
public static class NativeCli
{
    public const string Override = "CASTRA_CLI";

    private static readonly Lazy<string> Located = new(Locate, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Path => Located.Value;

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable(Override) is { Length: > 0 } chosen)
        {
            return File.Exists(chosen) ? chosen : throw new InvalidOperationException($"{Override}={chosen}: no such file");
        }

        var repo = RealGuest.RepositoryRoot;
        var binary = System.IO.Path.Combine(repo, "out", "castra", "castra");
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException(
                $"the native CLI {binary} is missing: run ./build.sh build (it publishes it with Native AOT), or set {Override} to a castra executable");
        }

        // A source newer than the binary means the tests would run yesterday's CLI: `dotnet test` rebuilds castra.dll,
        // but only ./build.sh build (or ./build.ps1 -Task Build) republishes the native binary.
        var built = File.GetLastWriteTimeUtc(binary);
        var newer = SourcesOf(repo).FirstOrDefault(f => File.GetLastWriteTimeUtc(f) > built);
        if (newer is not null)
        {
            throw new InvalidOperationException(
                $"the native CLI {binary} is older than {System.IO.Path.GetRelativePath(repo, newer)}: run ./build.sh build to republish it");
        }

        return binary;
    }

    private static IEnumerable<string> SourcesOf(string repo)
    {
        foreach (var project in new[] { "Castra.Cli", "Castra.Core" })
        {
            var dir = System.IO.Path.Combine(repo, "src", project);
            foreach (var file in Directory.EnumerateFiles(dir, "*.cs*", SearchOption.AllDirectories))
            {
                var relative = System.IO.Path.GetRelativePath(dir, file);
                if (!relative.StartsWith("bin" + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal) &&
                    !relative.StartsWith("obj" + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    yield return file;
                }
            }
        }

        yield return System.IO.Path.Combine(repo, "Directory.Build.props");
        yield return System.IO.Path.Combine(repo, "Directory.Packages.props");
    }
}
