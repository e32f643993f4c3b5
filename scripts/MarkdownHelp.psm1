#Requires -Version 7.4
<#
Castra's PowerShell help from the platyPS markdown in docs/ (platyPS itself is not available to the build):

    Import-Module ./scripts/MarkdownHelp.psm1
    Update-MarkdownHelp -DocsPath ./docs -OutputPath ./en-US          # writes Castra.dll-Help.xml, about_Castra.help.txt
    Update-MarkdownHelp -DocsPath ./docs -OutputPath ./en-US -Check   # throws when those files are not what docs/ gives

It follows platyPS 0.14's rules, so that real platyPS (New-ExternalHelp ./docs/*-Castra*.md, ./docs/about_*.md) makes
the same documents from the same markdown:

* cmdlet pages (docs/*-*.md with `external help file:` front matter) become one MAML file per help file named there
  (ModelTransformerVersion2 + MamlRenderer: an XDocument saved with two-space indentation);
* about topics (docs/*.md whose second heading starts with "about") become en-US/<name>.help.txt (TextRenderer).

Only the markdown subset platyPS turns into MAML without surprises is accepted: one paragraph per line of text, blank
lines between paragraphs, code only in examples (and in the about topic), no emphasis and no inline links (platyPS would
rewrite them). Anything else stops with an error naming the file and line. Whether the pages match the cmdlets
(parameters, sets, pipeline input, …) is checked against the built module by the tests
(tests/Castra.PowerShell.Tests/HelpTests.cs), not here: this step reads markdown only.
#>

Set-StrictMode -Version 3.0

$script:AllSets = '(All)'
$script:KnownYamlKeys = @('type', 'parameter sets', 'aliases', 'accepted values', 'required', 'position', 'default value',
    'accept pipeline input', 'accept wildcard characters', 'applicable')
$script:Sections = @('SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS')
$script:Namespaces = [ordered]@{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}
$script:Indent = '    '
$script:AboutWidth = 80

# ---------------------------------------------------------------------------------------------------------------------
# Markdown: front matter, then a flat list of nodes (heading, code, text = consecutive paragraphs).
# ---------------------------------------------------------------------------------------------------------------------

class HelpNode {
    [string] $Kind   # heading | code | text
    [int] $Line
    [int] $Level
    [string] $Text = ''
    [string] $Lang = ''
    # For text nodes: the source lines of each paragraph.
    [System.Collections.Generic.List[string[]]] $Paragraphs = [System.Collections.Generic.List[string[]]]::new()
}

class HelpParameter {
    [string] $Name
    [string[]] $Description
    [string] $Type = ''
    [string[]] $Sets = @()
    [string[]] $Aliases = @()
    [string[]] $Accepted = @()
    [bool] $Required
    [string] $Position = 'named'
    [string] $Default     # $null when the yaml has no value
    [string] $Pipeline = 'false'
    [bool] $Globbing

    [bool] IsSwitch() {
        return $this.Type.ToLowerInvariant() -in @('switch', 'switchparameter', 'system.management.automation.switchparameter')
    }
}

class HelpExample {
    [string] $Title
    [string[]] $Code
    [string[]] $Remarks
}

class HelpCommand {
    [string] $Name
    [string] $Path
    [System.Collections.Specialized.OrderedDictionary] $Meta
    [string[]] $Synopsis = @('')
    [string[]] $Description = @('')
    [string[]] $Notes = @('')
    [System.Collections.Generic.List[string]] $SyntaxSets = [System.Collections.Generic.List[string]]::new()
    [System.Collections.Generic.List[HelpExample]] $Examples = [System.Collections.Generic.List[HelpExample]]::new()
    # The first yaml block of each parameter (the PARAMETERS section of the MAML).
    [System.Collections.Generic.List[HelpParameter]] $Parameters = [System.Collections.Generic.List[HelpParameter]]::new()
    # Every yaml block of each parameter, by set name in the order written (the SYNTAX section of the MAML).
    [System.Collections.Generic.List[System.Collections.Specialized.OrderedDictionary]] $ParameterSets = [System.Collections.Generic.List[System.Collections.Specialized.OrderedDictionary]]::new()
    [System.Collections.Generic.List[object[]]] $Inputs = [System.Collections.Generic.List[object[]]]::new()
    [System.Collections.Generic.List[object[]]] $Outputs = [System.Collections.Generic.List[object[]]]::new()
    [System.Collections.Generic.List[string[]]] $Links = [System.Collections.Generic.List[string[]]]::new()
}

function New-DocError([string] $Message) {
    [System.IO.InvalidDataException]::new($Message)
}

function Read-HelpMarkdown {
    <# Front matter (ordered key/value) and the node list of one markdown file. #>
    param([Parameter(Mandatory)][string] $Path)

    $name = [System.IO.Path]::GetFileName($Path)
    $raw = [System.IO.File]::ReadAllText($Path, [System.Text.UTF8Encoding]::new($false))
    $raw = $raw.TrimStart([char] 0xFEFF).Replace("`r`n", "`n").Replace("`r", "`n")
    $raw = $raw.Replace([string] [char] 0x2013, '-')  # platyPS' PrepareDocumentString does the same
    $lines = $raw.Split("`n")
    $meta = [ordered]@{}
    $i = 0
    if ($lines.Count -gt 0 -and $lines[0] -ceq '---') {
        $end = [array]::IndexOf($lines, '---', 1)
        if ($end -lt 0) { throw (New-DocError "${name}: unterminated front matter") }
        foreach ($entry in $lines[1..($end - 1)]) {
            if ($entry.Trim()) {
                $colon = $entry.IndexOf(':')
                if ($colon -lt 0) { $meta[$entry.Trim()] = '' } else { $meta[$entry.Substring(0, $colon).Trim()] = $entry.Substring($colon + 1).Trim() }
            }
        }
        $i = $end + 1
    }

    $nodes = [System.Collections.Generic.List[HelpNode]]::new()
    $paragraph = [System.Collections.Generic.List[string]]::new()
    $paragraphStart = 0
    $flush = {
        if ($paragraph.Count -gt 0) {
            if ($nodes.Count -gt 0 -and $nodes[$nodes.Count - 1].Kind -ceq 'text') {
                $nodes[$nodes.Count - 1].Paragraphs.Add($paragraph.ToArray())
            }
            else {
                $node = [HelpNode] @{ Kind = 'text'; Line = $paragraphStart }
                $node.Paragraphs.Add($paragraph.ToArray())
                $nodes.Add($node)
            }
            $paragraph.Clear()
        }
    }

    while ($i -lt $lines.Count) {
        $line = $lines[$i]
        $fence = [regex]::Match($line, '^```(\w*)\s*$')
        $heading = [regex]::Match($line, '^(#+)[ ]*(.+?)[ ]*#*$')
        if ($fence.Success) {
            . $flush
            $body = [System.Collections.Generic.List[string]]::new()
            $j = $i + 1
            while ($j -lt $lines.Count -and -not $lines[$j].StartsWith('```', [StringComparison]::Ordinal)) {
                $body.Add($lines[$j])
                $j++
            }
            if ($j -eq $lines.Count) { throw (New-DocError "${name}:$($i + 1): unterminated code block") }
            $nodes.Add([HelpNode] @{ Kind = 'code'; Line = $i + 1; Text = $body -join "`n"; Lang = $fence.Groups[1].Value })
            $i = $j + 1
            continue
        }
        if ($heading.Success) {
            . $flush
            $nodes.Add([HelpNode] @{ Kind = 'heading'; Line = $i + 1; Level = $heading.Groups[1].Value.Length; Text = $heading.Groups[2].Value })
        }
        elseif (-not $line.Trim()) {
            . $flush
        }
        else {
            if ($paragraph.Count -eq 0) { $paragraphStart = $i + 1 }
            $paragraph.Add($line)
        }
        $i++
    }
    . $flush
    [pscustomobject] @{ Meta = $meta; Nodes = $nodes }
}

function Assert-PlainParagraph {
    <# Refuses what platyPS' markdown parser would silently rewrite, so that the XML stays a faithful copy. #>
    param([string] $FileName, [HelpNode] $Node, [switch] $AllowLinks)

    for ($offset = 0; $offset -lt $Node.Paragraphs.Count; $offset++) {
        foreach ($text in $Node.Paragraphs[$offset]) {
            $where = "$FileName (paragraph near line $($Node.Line + $offset)): '$($text.Substring(0, [Math]::Min(60, $text.Length)))'"
            if ($text.EndsWith('  ', [StringComparison]::Ordinal)) { throw (New-DocError "${where}: trailing double space (a hard line break)") }
            if (@($text.ToCharArray() | Where-Object { $_ -ceq '*' }).Count -ge 2) { throw (New-DocError "${where}: two '*' on one line become emphasis in platyPS") }
            if ($text.Contains('](', [StringComparison]::Ordinal) -and -not $AllowLinks) { throw (New-DocError "${where}: inline links are rewritten by platyPS; name the page instead") }
            if ([regex]::IsMatch($text, '^[ ]*(==+|--+)[ ]*$')) { throw (New-DocError "${where}: a line of '=' or '-' turns the line above into a heading") }
        }
    }
}

function Get-ParagraphText {
    <#
    One string per paragraph, the lines of a paragraph joined by a space (a soft line break). A section that is present
    but empty still gives one empty paragraph: platyPS renders "" as one maml:para.
    #>
    param([AllowNull()][HelpNode] $Node)

    if ($null -eq $Node) { return , [string[]] @('') }
    , [string[]] @($Node.Paragraphs | ForEach-Object { (@($_) | ForEach-Object { $_.Trim() }) -join ' ' })
}

function Split-YamlList([AllowNull()][string] $Value) {
    # A yaml key without a value was read as null, which a [string] parameter turns into "".
    if ([string]::IsNullOrEmpty($Value)) { return , [string[]] @() }
    , [string[]] @($Value.Split(',') | ForEach-Object { $_.Trim() })
}

function Read-ParameterYaml {
    param([string] $FileName, [HelpNode] $Node)

    $result = @{}
    foreach ($line in $Node.Text.Split("`n")) {
        if (-not $line.Trim()) { continue }
        $colon = $line.IndexOf(':')
        if ($colon -lt 0) { throw (New-DocError "${FileName}:$($Node.Line): invalid yaml line '$line'") }
        $key = $line.Substring(0, $colon).Trim()
        if ($key.ToLowerInvariant() -cnotin $script:KnownYamlKeys) { throw (New-DocError "${FileName}:$($Node.Line): unknown yaml key '$key'") }
        $value = $line.Substring($colon + 1).Trim()
        $result[$key.ToLowerInvariant()] = if ($value) { $value } else { $null }
    }
    $result
}

function Read-HelpCommand {
    <# One cmdlet page (ModelTransformerVersion2). #>
    param([Parameter(Mandatory)][string] $Path)

    $fileName = [System.IO.Path]::GetFileName($Path)
    $markdown = Read-HelpMarkdown -Path $Path
    $nodes = $markdown.Nodes
    if ($nodes.Count -eq 0 -or $nodes[0].Kind -cne 'heading' -or $nodes[0].Level -ne 1) {
        throw (New-DocError "${fileName}: the first heading must be '# <command name>'")
    }
    $command = [HelpCommand] @{ Name = $nodes[0].Text; Path = $Path; Meta = $markdown.Meta }
    $state = @{ Pos = 1 }

    $peek = { if ($state.Pos -lt $nodes.Count) { $nodes[$state.Pos] } else { $null } }
    $take = {
        param([string] $Kind)
        $node = & $peek
        if ($null -ne $node -and $node.Kind -ceq $Kind) { $state.Pos++; $node } else { $null }
    }
    $takeText = {
        param([bool] $AllowLinks)
        $node = & $take 'text'
        if ($null -ne $node) {
            Assert-PlainParagraph -FileName $fileName -Node $node -AllowLinks:$AllowLinks
            for ($offset = 0; $offset -lt $node.Paragraphs.Count; $offset++) {
                if ($node.Paragraphs[$offset].Count -gt 1) {
                    # platyPS 0.14 versions differ in how they join soft-wrapped lines; one line is unambiguous.
                    throw (New-DocError "$fileName (near line $($node.Line + $offset)): write each paragraph on one line")
                }
            }
        }
        $node
    }
    $isSectionEnd = { param($node) $null -eq $node -or ($node.Kind -ceq 'heading' -and $node.Level -le 2) }

    while ($state.Pos -lt $nodes.Count) {
        $heading = & $take 'heading'
        if ($null -eq $heading -or $heading.Level -ne 2) {
            throw (New-DocError "${fileName}:$($nodes[$state.Pos].Line): expected a '## SECTION' heading")
        }
        $section = $heading.Text.ToUpperInvariant()
        if ($section -cnotin $script:Sections) { throw (New-DocError "${fileName}:$($heading.Line): unexpected section '$($heading.Text)'") }

        switch -CaseSensitive ($section) {
            { $_ -in 'SYNOPSIS', 'DESCRIPTION', 'NOTES' } {
                $texts = Get-ParagraphText (& $takeText $false)
                $next = & $peek
                if ($null -ne $next -and $next.Kind -ceq 'code') { throw (New-DocError "${fileName}:$($next.Line): platyPS accepts no code block in $section") }
                switch -CaseSensitive ($section) {
                    'SYNOPSIS' { $command.Synopsis = $texts }
                    'DESCRIPTION' { $command.Description = $texts }
                    'NOTES' { $command.Notes = $texts }
                }
            }
            'SYNTAX' {
                while (-not (& $isSectionEnd (& $peek))) {
                    $node = & $peek
                    if ($node.Kind -ceq 'heading' -and $node.Level -eq 3) {
                        $command.SyntaxSets.Add(($node.Text -creplace ' \(Default\)$', ''))
                    }
                    elseif ($node.Kind -cne 'code') {
                        throw (New-DocError "${fileName}:$($node.Line): SYNTAX holds '### Set' headings and code blocks only")
                    }
                    $state.Pos++
                }
            }
            'EXAMPLES' {
                while ($null -ne ($node = & $peek) -and $node.Kind -ceq 'heading' -and $node.Level -eq 3) {
                    $state.Pos++
                    if ($null -ne (& $take 'text')) {
                        throw (New-DocError "${fileName}:$($node.Line): put the explanation after the code; platyPS drops text before it")
                    }
                    $code = [System.Collections.Generic.List[string]]::new()
                    while ($null -ne ($block = & $take 'code')) { $code.Add($block.Text.TrimEnd("`n")) }
                    if ($code.Count -eq 0) { throw (New-DocError "${fileName}:$($node.Line): example without code") }
                    $command.Examples.Add([HelpExample] @{ Title = $node.Text; Code = $code.ToArray(); Remarks = (Get-ParagraphText (& $takeText $false)) })
                }
            }
            'PARAMETERS' {
                while ($null -ne ($node = & $peek) -and $node.Kind -ceq 'heading' -and $node.Level -eq 3) {
                    $state.Pos++
                    $name = if ($node.Text.StartsWith('-', [StringComparison]::Ordinal)) { $node.Text.Substring(1) } else { $node.Text }
                    $descriptionNode = & $takeText ($name -ceq 'CommonParameters')
                    if ($name.ToLowerInvariant() -ceq 'commonparameters') { continue }
                    $description = Get-ParagraphText $descriptionNode
                    $blocks = [System.Collections.Generic.List[HelpNode]]::new()
                    while ($null -ne ($block = & $take 'code')) {
                        if ($block.Lang.ToLowerInvariant() -cne 'yaml') { throw (New-DocError "${fileName}:$($block.Line): only yaml code blocks are expected under -$name") }
                        $blocks.Add($block)
                    }
                    if ($blocks.Count -eq 0) { throw (New-DocError "${fileName}:$($node.Line): -$name has no yaml block") }
                    $bySet = [ordered]@{}
                    $first = $null
                    foreach ($block in $blocks) {
                        $yaml = Read-ParameterYaml -FileName $fileName -Node $block
                        $parameter = [HelpParameter] @{
                            Name        = $name
                            Description = $description
                            Type        = if ($yaml['type']) { $yaml['type'] } else { '' }
                            Sets        = if ($yaml.ContainsKey('parameter sets')) { Split-YamlList $yaml['parameter sets'] } else { @($script:AllSets) }
                            Aliases     = Split-YamlList $yaml['aliases']
                            Accepted    = Split-YamlList $yaml['accepted values']
                            Required    = "$($yaml['required'])".ToLowerInvariant() -ceq 'true'
                            Position    = if ($yaml['position']) { $yaml['position'] } else { 'named' }
                            Default     = $yaml['default value']
                            Pipeline    = if ($yaml['accept pipeline input']) { $yaml['accept pipeline input'] } else { 'false' }
                            Globbing    = "$($yaml['accept wildcard characters'])".ToLowerInvariant() -ceq 'true'
                        }
                        if ($null -eq $first) { $first = $parameter }
                        foreach ($set in $parameter.Sets) {
                            if ($set) { $bySet[$set] = $parameter }
                        }
                    }
                    $command.Parameters.Add($first)
                    $command.ParameterSets.Add($bySet)
                }
            }
            { $_ -in 'INPUTS', 'OUTPUTS' } {
                # Assigned, not taken from an if expression: that would enumerate the list instead of referring to it.
                $entries = $command.Outputs
                if ($section -ceq 'INPUTS') { $entries = $command.Inputs }
                while ($null -ne ($node = & $peek) -and $node.Kind -ceq 'heading' -and $node.Level -eq 3) {
                    $state.Pos++
                    $entries.Add(@($node.Text, (Get-ParagraphText (& $takeText $false))))
                }
            }
            'RELATED LINKS' {
                foreach ($text in (Get-ParagraphText (& $takeText $true))) {
                    $links = [regex]::Matches($text, '\[(.+?)\]\((.*?)\)')
                    if ($links.Count -eq 0 -or ([regex]::Replace($text, '\[(.+?)\]\((.*?)\)', '')).Trim()) {
                        throw (New-DocError "${fileName}: RELATED LINKS holds links only, got '$text'")
                    }
                    foreach ($link in $links) { $command.Links.Add(@($link.Groups[1].Value, $link.Groups[2].Value)) }
                }
            }
        }
        $next = & $peek
        if (-not (& $isSectionEnd $next)) { throw (New-DocError "${fileName}:$($next.Line): unexpected content in $section") }
    }

    $online = if ($command.Meta.Contains('online version')) { $command.Meta['online version'] } else { '' }
    if ($online -and ($command.Links.Count -eq 0 -or $command.Links[0][1] -cne $online)) {
        $command.Links.Insert(0, @('Online Version:', $online))
    }

    # The SYNTAX headings must name the sets the parameters use (the MAML's syntax comes from the parameters).
    if ($command.SyntaxSets.Count -gt 0) {
        $used = @($command.ParameterSets | ForEach-Object { $_.Keys } | Where-Object { $_ -cne $script:AllSets } | Sort-Object -Unique -CaseSensitive)
        $listed = @($command.SyntaxSets | Sort-Object -Unique -CaseSensitive)
        if (($used -join '|') -cne ($listed -join '|')) {
            throw (New-DocError "${fileName}: SYNTAX lists sets [$($listed -join ', ')], PARAMETERS use [$($used -join ', ')]")
        }
    }
    $command
}

function Get-SyntaxItem {
    <# GatherSyntax/FillUpSyntax: set names in order of first appearance, (All) parameters in every set. #>
    param([HelpCommand] $Command)

    $setNames = [System.Collections.Generic.List[string]]::new()
    foreach ($bySet in $Command.ParameterSets) {
        foreach ($set in $bySet.Keys) {
            if (-not ($setNames | Where-Object { $_.ToLowerInvariant() -ceq $set.ToLowerInvariant() })) { $setNames.Add($set) }
        }
    }
    if ($setNames.Count -eq 0) { return , @(, @()) }

    $items = [System.Collections.Generic.List[object]]::new()
    foreach ($setName in $setNames) {
        if ($setName -ceq $script:AllSets -and $setNames.Count -gt 1) { continue }
        $chosen = [System.Collections.Generic.List[HelpParameter]]::new()
        foreach ($bySet in $Command.ParameterSets) {
            $parameter = $null
            foreach ($key in $bySet.Keys) {
                if ($key.ToLowerInvariant() -ceq $setName.ToLowerInvariant()) { $parameter = $bySet[$key]; break }
            }
            if ($null -eq $parameter -and $bySet.Count -eq 1 -and $bySet.Contains($script:AllSets)) { $parameter = $bySet[$script:AllSets] }
            if ($null -ne $parameter) { $chosen.Add($parameter) }
        }
        # OrderBy(x => x.Position), a stable sort on the position text: digits before "Named".
        $keyed = for ($k = 0; $k -lt $chosen.Count; $k++) {
            $p = $chosen[$k]
            $isNumber = [regex]::IsMatch($p.Position, '^[0-9]+$')
            [pscustomobject] @{ Group = if ($isNumber) { 0 } else { 1 }; Number = if ($isNumber) { [int] $p.Position } else { 0 }; Text = $p.Position.ToLowerInvariant(); Parameter = $p }
        }
        $numbered = @($keyed | Where-Object Group -EQ 0 | Sort-Object -Property Number -Stable)
        $named = @($keyed | Where-Object Group -EQ 1 | Sort-Object -Property Text -Stable -CaseSensitive)
        $items.Add(@(($numbered + $named) | ForEach-Object Parameter))
    }
    , $items.ToArray()
}

# ---------------------------------------------------------------------------------------------------------------------
# MAML (MamlRenderer): written element by element, in the layout an indented XDocument.Save gives.
# ---------------------------------------------------------------------------------------------------------------------

function New-El {
    <# An element: tag, attributes (ordered pairs), children or text (text, even empty, wins). #>
    param([string] $Tag, [object[]] $Children = @(), [object[]] $Attributes = @(), [AllowNull()][string] $Text = $null, [switch] $HasText)
    [pscustomobject] @{ Tag = $Tag; Children = @($Children | Where-Object { $null -ne $_ }); Attributes = $Attributes; Text = $Text; HasText = [bool] $HasText }
}

function New-TextEl([string] $Tag, [AllowEmptyString()][string] $Text, [object[]] $Attributes = @()) {
    New-El -Tag $Tag -Text $Text -HasText -Attributes $Attributes
}

function ConvertTo-XmlText([string] $Text) { $Text.Replace('&', '&amp;').Replace('<', '&lt;').Replace('>', '&gt;') }

function Write-El {
    param($Element, [System.Text.StringBuilder] $Out, [int] $Depth)

    $pad = '  ' * $Depth
    $attributes = -join @($Element.Attributes | ForEach-Object { " $($_[0])=`"$((ConvertTo-XmlText $_[1]).Replace('"', '&quot;'))`"" })
    if ($Element.HasText) {
        $null = $Out.Append("$pad<$($Element.Tag)$attributes>$(ConvertTo-XmlText $Element.Text)</$($Element.Tag)>`n")
    }
    elseif ($Element.Children.Count -eq 0) {
        $null = $Out.Append("$pad<$($Element.Tag)$attributes />`n")
    }
    else {
        $null = $Out.Append("$pad<$($Element.Tag)$attributes>`n")
        foreach ($child in $Element.Children) { Write-El -Element $child -Out $Out -Depth ($Depth + 1) }
        $null = $Out.Append("$pad</$($Element.Tag)>`n")
    }
}

function ConvertTo-Bool([bool] $Value) { if ($Value) { 'true' } else { 'false' } }

function New-Paras([string[]] $Texts) {
    # GenerateParagraphs: one maml:para per paragraph of the section.
    @($Texts | ForEach-Object { New-TextEl 'maml:para' $_ })
}

function Format-ExampleTitle([string] $Title) {
    if (-not $Title.Trim() -or $Title.Length -ge 62) { return $Title }
    $pad = [Math]::Floor((64 - $Title.Length - 2) / 2)
    ('-' * $pad) + ' ' + $Title + ' ' + ('-' * $pad)
}

function New-ParameterEl {
    param([HelpParameter] $Parameter, [bool] $InSyntax)

    $isSwitch = $Parameter.IsSwitch()
    $mamlType = if ($isSwitch) { 'SwitchParameter' } else { $Parameter.Type }
    $default = if ($isSwitch -and (-not $Parameter.Default -or $Parameter.Default -ceq 'None')) { 'False' }
    elseif ($Parameter.Default) { $Parameter.Default }
    else { 'None' }
    $valueGroup = $null
    if ($InSyntax -and $Parameter.Accepted.Count -gt 0) {
        $valueGroup = New-El 'command:parameterValueGroup' -Children @($Parameter.Accepted | ForEach-Object {
                New-TextEl 'command:parameterValue' $_ -Attributes (@(, @('required', 'false')) + @(, @('command:variableLength', 'false')))
            })
    }
    $value = $null
    if (-not $InSyntax -or -not $isSwitch) {
        $value = New-TextEl 'command:parameterValue' $mamlType -Attributes (@(, @('required', (ConvertTo-Bool (-not $isSwitch)))) + @(, @('variableLength', 'false')))
    }
    New-El 'command:parameter' -Children @(
        (New-TextEl 'maml:name' $Parameter.Name),
        (New-El 'maml:description' -Children (New-Paras $Parameter.Description)),
        $valueGroup,
        $value,
        (New-El 'dev:type' -Children @((New-TextEl 'maml:name' $mamlType), (New-El 'maml:uri'))),
        (New-TextEl 'dev:defaultValue' $default)
    ) -Attributes @(
        @('required', (ConvertTo-Bool $Parameter.Required)),
        @('variableLength', 'true'),
        @('globbing', (ConvertTo-Bool $Parameter.Globbing)),
        @('pipelineInput', $Parameter.Pipeline),
        @('position', $Parameter.Position.ToLowerInvariant()),
        @('aliases', $(if ($Parameter.Aliases.Count -gt 0) { $Parameter.Aliases -join ', ' } else { 'none' }))
    )
}

function New-CommandEl {
    param([HelpCommand] $Command)

    $verb = $Command.Name.Split('-')[0]
    $noun = $Command.Name.Substring([Math]::Min($verb.Length + 1, $Command.Name.Length))
    $links = @($Command.Links | ForEach-Object {
            $absolute = [regex]::IsMatch($_[1], '^[A-Za-z][A-Za-z0-9+.-]*:')
            New-El 'maml:navigationLink' -Children @((New-TextEl 'maml:linkText' $_[0]), (New-TextEl 'maml:uri' $(if ($absolute) { $_[1] } else { '' })))
        })
    $typeEntry = {
        param([string] $Tag, $Entry)
        New-El $Tag -Children @(
            (New-El 'dev:type' -Children @(, (New-TextEl 'maml:name' $Entry[0]))),
            (New-El 'maml:description' -Children (New-Paras $Entry[1])))
    }
    New-El 'command:command' -Children @(
        (New-El 'command:details' -Children @(
            (New-TextEl 'command:name' $Command.Name),
            (New-TextEl 'command:verb' $verb),
            (New-TextEl 'command:noun' $noun),
            (New-El 'maml:description' -Children (New-Paras $Command.Synopsis)))),
        (New-El 'maml:description' -Children (New-Paras $Command.Description)),
        (New-El 'command:syntax' -Children @((Get-SyntaxItem $Command) | ForEach-Object {
                    $item = @($_)
                    New-El 'command:syntaxItem' -Children (@(New-TextEl 'maml:name' $Command.Name) + @($item | ForEach-Object { New-ParameterEl $_ $true }))
                })),
        (New-El 'command:parameters' -Children @($Command.Parameters | ForEach-Object { New-ParameterEl $_ $false })),
        (New-El 'command:inputTypes' -Children @($Command.Inputs | ForEach-Object { & $typeEntry 'command:inputType' $_ })),
        (New-El 'command:returnValues' -Children @($Command.Outputs | ForEach-Object { & $typeEntry 'command:returnValue' $_ })),
        (New-El 'maml:alertSet' -Children @(, (New-El 'maml:alert' -Children (New-Paras $Command.Notes)))),
        (New-El 'command:examples' -Children @($Command.Examples | ForEach-Object {
                    New-El 'command:example' -Children @(
                        (New-TextEl 'maml:title' (Format-ExampleTitle $_.Title)),
                        (New-TextEl 'dev:code' ($_.Code -join "`n`n")),
                        (New-El 'dev:remarks' -Children (New-Paras $_.Remarks)))
                })),
        (New-El 'command:relatedLinks' -Children $links)
    ) -Attributes @($script:Namespaces.GetEnumerator() | ForEach-Object { , @("xmlns:$($_.Key)", $_.Value) })
}

function ConvertTo-MamlHelp {
    <# The MAML document of the given commands, as text (UTF-8 without the byte order mark, which the writer adds). #>
    param([HelpCommand[]] $Command)

    $root = New-El 'helpItems' -Children @($Command | ForEach-Object { New-CommandEl $_ }) -Attributes @(@('schema', 'maml'), @('xmlns', 'http://msh'))
    $out = [System.Text.StringBuilder]::new()
    $null = $out.Append("<?xml version=`"1.0`" encoding=`"utf-8`"?>`n")
    Write-El -Element $root -Out $out -Depth 0
    $out.ToString()
}

# ---------------------------------------------------------------------------------------------------------------------
# About topics (TextRenderer, 80 columns).
# ---------------------------------------------------------------------------------------------------------------------

function Split-AboutLine([string] $Text) {
    <# WrapAndAppendLines: greedy on single spaces, lines of at most 76 characters after the indent. #>
    $lines = [System.Collections.Generic.List[string]]::new()
    $current = ''
    foreach ($word in $Text.Split(' ')) {
        if ($current.Length + $word.Length -gt $script:AboutWidth - 4) {
            $lines.Add($script:Indent + $(if ($current.EndsWith(' ')) { $current.Substring(0, $current.Length - 1) } else { $current }))
            $current = $word + ' '
        }
        else {
            $current += $word + ' '
        }
    }
    if ($current -and $current -cne ' ') {
        $lines.Add($script:Indent + $(if ($current.EndsWith(' ')) { $current.Substring(0, $current.Length - 1) } else { $current }))
    }
    , $lines.ToArray()
}

function ConvertTo-AboutHelp {
    <# The about topic of one markdown page: its name (about_X) and its text. #>
    param([Parameter(Mandatory)][string] $Path)

    $fileName = [System.IO.Path]::GetFileName($Path)
    $nodes = (Read-HelpMarkdown -Path $Path).Nodes
    if ($nodes.Count -lt 2 -or $nodes[0].Kind -cne 'heading' -or $nodes[1].Kind -cne 'heading' -or -not $nodes[1].Text.ToLowerInvariant().StartsWith('about')) {
        throw (New-DocError "${fileName}: an about topic starts with '# Title' then '## about_Name'")
    }
    $out = [System.Collections.Generic.List[string]]::new()
    for ($index = 0; $index -lt $nodes.Count; $index++) {
        $node = $nodes[$index]
        switch -CaseSensitive ($node.Kind) {
            'heading' {
                if ($index -eq 0) { $out.Add('TOPIC') }
                elseif ($node.Level -eq 1) { $out.Add($node.Text.ToUpperInvariant()) }
                elseif ($node.Level -eq 2 -and $index -eq 1) { $out.Add($script:Indent + $node.Text.ToLowerInvariant()); $out.Add('') }
                elseif ($node.Level -eq 2) { $out.Add($node.Text) }
                else { $out.Add($script:Indent + $node.Text.ToUpperInvariant()) }
            }
            'text' {
                Assert-PlainParagraph -FileName $fileName -Node $node
                foreach ($paragraph in $node.Paragraphs) {
                    # Each source line is its own span: it starts a new output line.
                    foreach ($line in $paragraph) {
                        if ($line.Length -gt $script:AboutWidth - 4) { $out.AddRange([string[]] (Split-AboutLine $line)) } else { $out.Add($script:Indent + $line) }
                    }
                    $out.Add('')
                }
            }
            'code' {
                foreach ($line in $node.Text.Split("`n")) { $out.Add(($script:Indent + $line).TrimEnd()) }
                $out.Add('')
            }
        }
    }
    $topic = $nodes[1].Text
    $name = if ($topic.ToLowerInvariant().StartsWith('about_')) { $topic } else { 'about_' + $topic }
    $stem = [System.IO.Path]::GetFileNameWithoutExtension($Path)
    [pscustomobject] @{
        Name = if ($stem.ToLowerInvariant().StartsWith('about_')) { $stem } else { $name }
        Text = (($out | ForEach-Object { $_.TrimEnd() }) -join "`n").TrimEnd("`n") + "`n"
    }
}

# ---------------------------------------------------------------------------------------------------------------------

function Sort-ByLowerName {
    <# Files in the order of their lower-cased names, compared ordinally (as the reference implementation sorted them). #>
    param([System.IO.FileInfo[]] $File)

    $items = [object[]] @($File)
    $keys = [string[]] @($items | ForEach-Object { $_.Name.ToLowerInvariant() })
    [Array]::Sort($keys, $items, [StringComparer]::Ordinal)
    $items
}

function Get-MarkdownHelpOutput {
    <# Every help file docs/ gives: an ordered map of output path → content. #>
    param([Parameter(Mandatory)][string] $DocsPath, [Parameter(Mandatory)][string] $OutputPath)

    $pages = @(Sort-ByLowerName (Get-ChildItem -LiteralPath $DocsPath -Filter '*-*.md' -File | Where-Object { -not $_.BaseName.ToLowerInvariant().StartsWith('about_') }))
    $cmdletPages = @($pages | Where-Object { (Read-HelpMarkdown -Path $_.FullName).Meta.Contains('external help file') })
    foreach ($page in $pages | Where-Object { $_ -notin $cmdletPages }) {
        # New-ExternalHelp ./docs takes every *-*.md as a cmdlet page; this one has no front matter to say so.
        Write-Verbose "skipping $($page.Name): no 'external help file' front matter"
    }
    $results = [ordered]@{}
    $groups = [ordered]@{}
    foreach ($page in $cmdletPages) {
        $command = Read-HelpCommand -Path $page.FullName
        $target = if ($command.Meta['external help file']) { $command.Meta['external help file'] } else { 'Castra.dll-Help.xml' }
        if (-not $groups.Contains($target)) { $groups[$target] = [System.Collections.Generic.List[HelpCommand]]::new() }
        $groups[$target].Add($command)
    }
    foreach ($target in $groups.Keys) {
        $results[(Join-Path $OutputPath $target)] = ConvertTo-MamlHelp -Command $groups[$target].ToArray()
    }
    foreach ($page in Sort-ByLowerName (Get-ChildItem -LiteralPath $DocsPath -Filter '*.md' -File)) {
        if ($page.FullName -in $cmdletPages.FullName) { continue }
        $nodes = (Read-HelpMarkdown -Path $page.FullName).Nodes
        if ($nodes.Count -gt 1 -and $nodes[1].Kind -ceq 'heading' -and $nodes[1].Text.Length -ge 5 -and $nodes[1].Text.Substring(0, 5).ToUpperInvariant() -ceq 'ABOUT') {
            $about = ConvertTo-AboutHelp -Path $page.FullName
            $results[(Join-Path $OutputPath "$($about.Name).help.txt")] = $about.Text
        }
    }
    $results
}

function Update-MarkdownHelp {
    <#
    .SYNOPSIS
    Writes the help files docs/ gives into OutputPath (UTF-8 with a byte order mark and LF line ends, as
    New-ExternalHelp writes them); with -Check, writes nothing and throws when any of them is missing or different.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)][string] $DocsPath, [Parameter(Mandatory)][string] $OutputPath, [switch] $Check)

    $stale = [System.Collections.Generic.List[string]]::new()
    $results = Get-MarkdownHelpOutput -DocsPath $DocsPath -OutputPath $OutputPath
    foreach ($path in $results.Keys) {
        $expected = [string] [char] 0xFEFF + $results[$path]
        $current = if (Test-Path -LiteralPath $path) { [System.IO.File]::ReadAllText($path, [System.Text.UTF8Encoding]::new($false)) } else { $null }
        if ($current -ceq $expected) { continue }
        $stale.Add($path)
        if (-not $Check) {
            $null = New-Item -ItemType Directory -Path (Split-Path $path) -Force
            # The text already starts with the byte order mark; write it as UTF-8 bytes without adding another.
            [System.IO.File]::WriteAllText($path, $expected, [System.Text.UTF8Encoding]::new($false))
            Write-Host "wrote $path"
        }
    }
    if ($Check -and $stale.Count -gt 0) {
        throw "The help in $OutputPath is out of date with $DocsPath ($($stale -join ', ')): run ./build.ps1 -Task Docs and commit the result."
    }
}

Export-ModuleMember -Function Update-MarkdownHelp, Get-MarkdownHelpOutput
