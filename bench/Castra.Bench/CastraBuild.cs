namespace Castra.Bench;

/// <summary>
/// What `./build.sh build` produced, as users run it: the native CLI (out/castra/castra), the JIT build of the same
/// CLI (`dotnet castra.dll`, for comparison), the module (out/Castra) and the pinned pwsh (.tools/pwsh/pwsh).
/// The benchmark measures these files rather than building its own, so its figures are the shipped artifacts'.
/// </summary>
internal sealed record CastraBuild(string Repository)
{
    public string NativeCli => Path.Combine(Repository, "out", "castra", "castra");

    /// <summary>The framework-dependent CLI `dotnet build` leaves in the project's output (Release).</summary>
    public string JitCliDll => Path.Combine(Repository, "src", "Castra.Cli", "bin", "Release", "net10.0", "castra.dll");

    public string Module => Path.Combine(Repository, "out", "Castra");

    public string Pwsh => Path.Combine(Repository, ".tools", "pwsh", "pwsh");

    public string GuestDirectory => Path.Combine(Repository, "tests", "fixtures", "guest", "out");

    /// <summary>The repository above the running benchmark (bench/Castra.Bench/bin/…), or null when run elsewhere.</summary>
    public static CastraBuild? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Castra.sln")))
            {
                return new CastraBuild(dir.FullName);
            }
        }

        return null;
    }

    /// <summary>Null when every file exists; otherwise what is missing and how to get it.</summary>
    public string? Missing(bool cli = false, bool jitCli = false, bool module = false)
    {
        var missing = new List<string>();
        if (cli && !File.Exists(NativeCli))
        {
            missing.Add(NativeCli);
        }

        if (jitCli && !File.Exists(JitCliDll))
        {
            missing.Add(JitCliDll);
        }

        if (module && !File.Exists(Path.Combine(Module, "Castra.psd1")))
        {
            missing.Add(Module);
        }

        if (module && !File.Exists(Pwsh))
        {
            missing.Add(Pwsh);
        }

        return missing.Count == 0 ? null : $"missing {string.Join(", ", missing)}: run ./build.sh build";
    }
}
