using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Castra.PowerShell.Tests;

/// <summary>The format file names real types and properties; the MAML help documents every cmdlet and parameter.</summary>
[Collection(ModuleGroup.Name)]
public sealed class FormatAndHelpTests(ModuleMetadata module)
{
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    private static string Repo(string relative) => Path.Combine(ModuleMetadata.RepositoryRoot, relative);

    [Fact]
    public void Format_views_select_real_types_and_name_real_properties()
    {
        var format = XDocument.Load(Repo("Castra.Format.ps1xml"));
        var views = format.Descendants("View").ToList();
        Assert.True(views.Count >= 3);
        foreach (var view in views)
        {
            var typeName = view.Element("ViewSelectedBy")!.Element("TypeName")!.Value;
            var type = module.Core.GetType(typeName) ?? module.Module.GetType(typeName);
            Assert.True(type is not null, $"view {view.Element("Name")!.Value} selects unknown type {typeName}");
            var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).ToHashSet();
            foreach (var property in view.Descendants("PropertyName").Select(p => p.Value))
            {
                Assert.True(properties.Contains(property), $"{typeName} has no property {property}");
            }

            var headers = view.Descendants("TableColumnHeader").Count();
            Assert.Equal(headers, view.Descendants("TableColumnItem").Count());
        }

        // Script blocks may only use properties that exist, too.
        foreach (var script in format.Descendants("ScriptBlock").Select(s => s.Value))
        {
            foreach (Match use in Regex.Matches(script, @"\$_\.(\w+)"))
            {
                var name = use.Groups[1].Value;
                Assert.True(
                    module.Core.GetExportedTypes().Any(t => t.GetProperty(name) is not null),
                    $"format script uses unknown property {name}");
            }
        }
    }

    [Fact]
    public void Help_documents_every_cmdlet_and_every_parameter_with_examples()
    {
        var help = XDocument.Load(Repo("en-US/Castra.dll-Help.xml"));
        var commands = help.Root!.Elements(Command + "command").ToDictionary(c => c.Element(Command + "details")!.Element(Command + "name")!.Value.Trim());

        foreach (var cmdlet in module.Cmdlets)
        {
            var name = ModuleMetadata.CommandName(cmdlet);
            Assert.True(commands.ContainsKey(name), $"no help for {name}");
            var entry = commands[name];
            var synopsis = entry.Element(Command + "details")!.Element(Maml + "description")!.Value.Trim();
            Assert.False(string.IsNullOrWhiteSpace(synopsis), $"{name} has no synopsis");
            Assert.False(string.IsNullOrWhiteSpace(entry.Element(Maml + "description")?.Value), $"{name} has no description");

            var documented = entry.Element(Command + "parameters")!.Elements(Command + "parameter")
                .Select(p => p.Element(Maml + "name")!.Value.Trim()).ToHashSet();
            var expected = ModuleMetadata.Parameters(cmdlet).Select(p => p.Name).ToHashSet();
            if (ModuleMetadata.SupportsShouldProcess(cmdlet))
            {
                expected.UnionWith(["WhatIf", "Confirm"]);
            }

            Assert.True(expected.SetEquals(documented),
                $"{name}: missing [{string.Join(", ", expected.Except(documented))}], extra [{string.Join(", ", documented.Except(expected))}]");

            foreach (var parameter in entry.Element(Command + "parameters")!.Elements(Command + "parameter"))
            {
                Assert.False(string.IsNullOrWhiteSpace(parameter.Element(Maml + "description")?.Value),
                    $"{name} -{parameter.Element(Maml + "name")!.Value} has no description");
            }

            var examples = entry.Element(Command + "examples")?.Elements(Command + "example").ToList() ?? [];
            Assert.True(examples.Count >= 2, $"{name} has {examples.Count} examples");
            Assert.Contains(examples, e => e.Element(Dev + "code")!.Value.Contains("ConvertTo-Json", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_markdown_sources_match_the_maml()
    {
        var help = XDocument.Load(Repo("en-US/Castra.dll-Help.xml"));
        foreach (var cmdlet in module.Cmdlets)
        {
            var name = ModuleMetadata.CommandName(cmdlet);
            var markdown = File.ReadAllText(Repo($"docs/{name}.md"));
            Assert.Contains("external help file: Castra.dll-Help.xml", markdown);
            var entry = help.Root!.Elements(Command + "command").Single(c => c.Element(Command + "details")!.Element(Command + "name")!.Value.Trim() == name);

            var synopsis = Regex.Match(markdown, @"## SYNOPSIS\s+(.+?)\s+## ", RegexOptions.Singleline).Groups[1].Value.Trim();
            Assert.Equal(Normalize(synopsis), Normalize(entry.Element(Command + "details")!.Element(Maml + "description")!.Value));

            var mdParameters = Regex.Matches(markdown, @"^### -(\w+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
            var xmlParameters = entry.Element(Command + "parameters")!.Elements(Command + "parameter").Select(p => p.Element(Maml + "name")!.Value.Trim()).ToHashSet();
            Assert.True(mdParameters.SetEquals(xmlParameters), $"{name}: markdown and MAML parameters differ");

            var mdExamples = Regex.Count(markdown, @"^### Example \d+", RegexOptions.Multiline);
            Assert.Equal(mdExamples, entry.Element(Command + "examples")!.Elements(Command + "example").Count());
        }
    }

    [Fact]
    public void The_about_topic_names_every_cmdlet()
    {
        var about = File.ReadAllText(Repo("en-US/about_Castra.help.txt"));
        Assert.StartsWith("TOPIC", about.TrimStart());
        foreach (var cmdlet in module.Cmdlets)
        {
            Assert.Contains(ModuleMetadata.CommandName(cmdlet), about);
        }
    }

    private static string Normalize(string text) => Regex.Replace(text, @"\s+", " ").Trim();
}
