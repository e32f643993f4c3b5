using System.Reflection;

namespace Castra.PowerShell.Tests.Support;

/// <summary>
/// Where the module under test is: out/Castra as ./build.sh build (or ./build.ps1 -Task Build) assembles it, found
/// through the repository root that the build wrote into this test assembly.
/// </summary>
public static class BuiltModule
{
    public static string RepositoryRoot { get; } =
        typeof(BuiltModule).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    public static string Directory => System.IO.Path.Combine(RepositoryRoot, "out", "Castra");

    /// <summary>The manifest to import; fails with what to run when the module has not been assembled.</summary>
    public static string Manifest
    {
        get
        {
            var manifest = System.IO.Path.Combine(Directory, "Castra.psd1");
            if (!File.Exists(manifest) || !File.Exists(System.IO.Path.Combine(Directory, "Castra.dll")))
            {
                throw new InvalidOperationException(
                    $"The module is not built: {Directory} has no Castra.psd1/Castra.dll. Run ./build.sh build (or ./build.ps1 -Task Build) first.");
            }

            return manifest;
        }
    }

    public static string Repo(string relative) => System.IO.Path.Combine(RepositoryRoot, relative);
}
