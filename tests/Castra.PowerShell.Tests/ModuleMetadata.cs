using System.Reflection;
using System.Runtime.InteropServices;

namespace Castra.PowerShell.Tests;

/// <summary>
/// The built module, loaded for inspection only (System.Reflection.MetadataLoadContext): PowerShell cannot run
/// here, and its reference assembly cannot execute, but its metadata can be read exactly as PowerShell reads it.
/// </summary>
public sealed class ModuleMetadata : IDisposable
{
    public const string Sma = "System.Management.Automation.";

    public ModuleMetadata()
    {
        var modulePath = Path.GetFullPath(Meta("ModuleAssembly"));
        Assert.True(File.Exists(modulePath), $"the module must be built first: {modulePath}");
        var smaPath = Meta("PowerShellReference");
        var moduleDir = Path.GetDirectoryName(modulePath)!;
        var paths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
            .Concat(Directory.GetFiles(moduleDir, "*.dll"))
            .Append(smaPath);
        Context = new MetadataLoadContext(new PathAssemblyResolver(paths));
        Module = Context.LoadFromAssemblyPath(modulePath);
        Core = Context.LoadFromAssemblyPath(Path.Combine(moduleDir, "Castra.Core.dll"));
        Automation = Context.LoadFromAssemblyPath(smaPath);
        Cmdlets = Module.GetExportedTypes().Where(t => Attribute(t, "CmdletAttribute") is not null).OrderBy(t => t.Name).ToList();
    }

    public static string RepositoryRoot => Path.GetFullPath(Meta("RepositoryRoot"));

    public MetadataLoadContext Context { get; }

    public Assembly Module { get; }

    public Assembly Core { get; }

    public Assembly Automation { get; }

    public IReadOnlyList<Type> Cmdlets { get; }

    public static CustomAttributeData? Attribute(MemberInfo member, string name) =>
        member.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == Sma + name);

    public static IEnumerable<CustomAttributeData> Attributes(MemberInfo member, string name) =>
        member.GetCustomAttributesData().Where(a => a.AttributeType.FullName == Sma + name);

    public static T? Named<T>(CustomAttributeData attribute, string name) =>
        attribute.NamedArguments.Where(a => a.MemberName == name).Select(a => (T?)a.TypedValue.Value).FirstOrDefault();

    public static string CommandName(Type cmdlet)
    {
        var attribute = Attribute(cmdlet, "CmdletAttribute")!;
        return $"{attribute.ConstructorArguments[0].Value}-{attribute.ConstructorArguments[1].Value}";
    }

    /// <summary>Public properties carrying [Parameter], including inherited ones (-StateRoot).</summary>
    public static IReadOnlyList<PropertyInfo> Parameters(Type cmdlet) =>
        cmdlet.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => Attributes(p, "ParameterAttribute").Any()).ToList();

    public static bool SupportsShouldProcess(Type cmdlet) => Named<bool>(Attribute(cmdlet, "CmdletAttribute")!, "SupportsShouldProcess");

    public Type Cmdlet(string command) => Cmdlets.Single(c => CommandName(c) == command);

    public void Dispose() => Context.Dispose();

    private static string Meta(string key) =>
        typeof(ModuleMetadata).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}

[CollectionDefinition(Name)]
public sealed class ModuleGroup : ICollectionFixture<ModuleMetadata>
{
    public const string Name = "Module metadata";
}
