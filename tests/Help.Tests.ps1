BeforeDiscovery {
    Import-Module "$PSScriptRoot/../RealtimeMirror.psd1" -Force
    $commands = (Get-Command -Module RealtimeMirror).Name
}
BeforeAll {
    Import-Module "$PSScriptRoot/../RealtimeMirror.psd1" -Force
    $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
}

Describe 'Help for <_>' -ForEach $commands {
    BeforeAll { $help = Get-Help $_ -Full; $cmd = Get-Command $_ }

    It 'has a written synopsis, a description and examples' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "*$_ *[<CommonParameters>]*"   # not the generated syntax line
        ($help.description.Text -join ' ').Length | Should -BeGreaterThan 40
        @($help.examples.example).Count | Should -BeGreaterThan 0
        @($help.examples.example)[0].code | Should -BeLike '*-Mirror*'
    }

    It 'links its online version (what Get-Help -Online opens): its page under the manifest''s ProjectUri' {
        $project = (Import-PowerShellDataFile "$PSScriptRoot/../RealtimeMirror.psd1").PrivateData.PSData.ProjectUri
        $first = @($help.relatedLinks.navigationLink)[0]
        $first.linkText | Should -Be 'Online Version:'
        $first.uri | Should -Be "$project/blob/main/docs/$_.md"
        Test-Path "$PSScriptRoot/../docs/$_.md" | Should -BeTrue
    }

    It 'describes every parameter' {
        foreach ($p in $cmd.Parameters.Keys | Where-Object { $_ -notin $common }) {
            (Get-Help $_ -Parameter $p).description.Text | Should -Not -BeNullOrEmpty -Because "-$p needs a description"
        }
    }
}

Describe 'about_RealtimeMirror' {
    It 'is found by Get-Help' {
        (Get-Help about_RealtimeMirror | Out-String) | Should -BeLike '*settle window*'
    }
}
