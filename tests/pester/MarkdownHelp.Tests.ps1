#Requires -Version 7.4
# The help generator (scripts/MarkdownHelp.psm1, ./build.ps1 -Task Docs): en-US/ is what docs/ gives, -Check notices
# a stale copy, and markdown that platyPS would rewrite is refused with its file and line.

Describe 'Help from docs/' {
    BeforeAll {
        $RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot ../..)).ProviderPath
        Import-Module (Join-Path $RepoRoot 'scripts/MarkdownHelp.psm1') -Force
    }

    BeforeEach {
        $docs = Join-Path $TestDrive 'docs'
        $enUs = Join-Path $TestDrive 'en-US'
        Remove-Item -LiteralPath $docs, $enUs -Recurse -Force -ErrorAction SilentlyContinue
        Copy-Item -LiteralPath (Join-Path $RepoRoot 'docs') -Destination $docs -Recurse
        Copy-Item -LiteralPath (Join-Path $RepoRoot 'en-US') -Destination $enUs -Recurse
    }

    It 'gives exactly the committed en-US files (UTF-8 with a byte order mark, LF)' {
        { Update-MarkdownHelp -DocsPath $docs -OutputPath $enUs -Check } | Should -Not -Throw
        $outputs = Get-MarkdownHelpOutput -DocsPath $docs -OutputPath $enUs
        @($outputs.Keys | ForEach-Object { Split-Path $_ -Leaf } | Sort-Object) | Should -Be @('about_Castra.help.txt', 'Castra.dll-Help.xml')
        $bytes = [System.IO.File]::ReadAllBytes((Join-Path $enUs 'Castra.dll-Help.xml'))
        $bytes[0..2] | Should -Be @(0xEF, 0xBB, 0xBF)
        [System.Text.Encoding]::UTF8.GetString($bytes).Contains("`r") | Should -BeFalse
        ([xml] [System.IO.File]::ReadAllText((Join-Path $enUs 'Castra.dll-Help.xml'))).helpItems.command.Count | Should -Be 14
    }

    It '-Check fails on a changed page and the regular run brings en-US up to date' {
        $page = Join-Path $docs 'Get-CastraVm.md'
        (Get-Content -Raw $page).Replace('## SYNOPSIS' + "`n", '## SYNOPSIS' + "`n" + 'Changed. ') | Set-Content -NoNewline $page

        { Update-MarkdownHelp -DocsPath $docs -OutputPath $enUs -Check } | Should -Throw '*out of date*Castra.dll-Help.xml*'
        Update-MarkdownHelp -DocsPath $docs -OutputPath $enUs 6>$null
        { Update-MarkdownHelp -DocsPath $docs -OutputPath $enUs -Check } | Should -Not -Throw
        (Get-Content -Raw (Join-Path $enUs 'Castra.dll-Help.xml')) | Should -BeLike '*<maml:para>Changed. *'
    }

    It 'refuses markdown that platyPS would rewrite, naming the file and line: <Problem>' -ForEach @(
        @{ Problem = 'emphasis'; Insert = 'Stops **all** of them.'; Message = '*Stop-CastraVm.md*emphasis*' }
        @{ Problem = 'an inline link'; Insert = 'See [events](events.md).'; Message = '*Stop-CastraVm.md*inline links*' }
        @{ Problem = 'a soft-wrapped paragraph'; Insert = "one line`nand its continuation"; Message = '*Stop-CastraVm.md*one line*' }
    ) {
        $page = Join-Path $docs 'Stop-CastraVm.md'
        (Get-Content -Raw $page).Replace("## DESCRIPTION`n", "## DESCRIPTION`n$Insert`n`n") | Set-Content -NoNewline $page

        { Update-MarkdownHelp -DocsPath $docs -OutputPath $enUs -Check } | Should -Throw $Message
    }
}
