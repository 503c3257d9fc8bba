BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest
    function Get-Completions([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText
    }
}
AfterAll { Remove-MirrorTest }

Describe 'Argument completers' {
    BeforeAll {
        Register-MirrorTarget -Name alpha -Path "$root/r-alpha" | Out-Null
        Register-MirrorTarget -Name beta -Path "$root/r-beta" | Out-Null
    }
    AfterAll { Unregister-MirrorTarget alpha, beta -Confirm:$false }

    It 'completes target names for <Line>' -ForEach @(
        @{ Line = 'Sync-MirrorTree -Path /tmp -Target al' }
        @{ Line = 'Start-MirrorWatch -Path /tmp -Target al' }
        @{ Line = 'Get-MirrorTarget -Name al' }
        @{ Line = 'Unregister-MirrorTarget -Name al' }
        @{ Line = 'Get-MirrorTarget al' }
    ) {
        Get-Completions $Line | Should -Be @('alpha')
    }

    It 'offers every target for an empty word' {
        Get-Completions 'Get-MirrorTarget -Name ' | Should -Be @('alpha', 'beta')
    }

    It 'completes the Ids of this session''s watches' {
        New-Item -ItemType Directory "$root/watched" -Force | Out-Null
        $w = Start-MirrorWatch -Path "$root/watched"
        try {
            Get-Completions 'Stop-MirrorWatch -Id ' | Should -Contain "$($w.Id)"
            Get-Completions 'Get-MirrorWatch -Id ' | Should -Contain "$($w.Id)"
        }
        finally { Stop-MirrorWatch -Id $w.Id -Confirm:$false }
    }
}
