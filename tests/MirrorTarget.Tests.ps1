BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest
}
AfterAll { Remove-MirrorTest }

Describe 'Register-MirrorTarget / Get-MirrorTarget / Unregister-MirrorTarget' {
    It 'persists local and SSH targets in the per-user JSON file, readable by another process' {
        Register-MirrorTarget -Name local1 -Path "$root/replica-local" | Out-Null
        $t = Register-TestSshTarget -Name ssh1 -RemotePath "$root/replica-ssh"
        $t.Kind | Should -Be 'Ssh'
        $t.Location | Should -BeLike "*@127.0.0.1:*:$root/replica-ssh"
        (Get-Content $env:REALTIMEMIRROR_CONFIG -Raw | ConvertFrom-Json).Name | Should -Be @('local1', 'ssh1')
        # A scheduled script is another process: it must find the same targets.
        $names = (Invoke-ChildPwsh '@{ Names = @((Get-MirrorTarget).Name) }').Names
        $names | Should -Be @('local1', 'ssh1')
    }

    It 'filters by wildcard and reports an unknown name as an error' {
        (Get-MirrorTarget -Name 'ssh*').Name | Should -Be 'ssh1'
        Get-MirrorTarget -Name nosuch -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetNotFound*'
    }

    It 'refuses to overwrite a target without -Force' {
        Register-MirrorTarget -Name local1 -Path "$root/other" -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetExists*'
        (Get-MirrorTarget local1).Path | Should -Be "$root/replica-local"
        Register-MirrorTarget -Name local1 -Path "$root/other" -Force | Out-Null
        (Get-MirrorTarget local1).Path | Should -Be "$root/other"
    }

    It 'binds Unregister-MirrorTarget from the pipeline and honours -WhatIf' {
        Get-MirrorTarget local1 | Unregister-MirrorTarget -WhatIf
        (Get-MirrorTarget).Name | Should -Contain 'local1'
        Get-MirrorTarget local1 | Unregister-MirrorTarget -Confirm:$false
        (Get-MirrorTarget).Name | Should -Not -Contain 'local1'
    }
}

Describe 'Host key verification' {
    It 'refuses an unknown host key, and records it only with -AcceptNewHostKey' {
        $kh = "$root/known_hosts_empty"
        Set-Content $kh ''
        Register-TestSshTarget -Name tofu -RemotePath "$root/r" -Extra @{ KnownHostsFile = $kh } -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetRefused*'
        $err[0].Exception.Message | Should -BeLike '*not in*known_hosts_empty*-AcceptNewHostKey*'
        Get-MirrorTarget tofu -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        Register-TestSshTarget -Name tofu -RemotePath "$root/r" -Extra @{ KnownHostsFile = $kh; AcceptNewHostKey = $true } | Out-Null
        Get-Content $kh -Raw | Should -Match "(?m)^\[127\.0\.0\.1\]:$($env:RTM_SSH_PORT) ssh-ed25519 "
        # Now trusted without the switch: the key was recorded.
        Register-TestSshTarget -Name tofu2 -RemotePath "$root/r" -Extra @{ KnownHostsFile = $kh } | Should -Not -BeNullOrEmpty
    }

    It 'refuses a host whose key differs from the recorded one' {
        $kh = "$root/known_hosts_wrong"
        ssh-keygen -q -t ed25519 -N '' -f "$root/other_host_key" | Out-Null
        Set-Content $kh "[127.0.0.1]:$($env:RTM_SSH_PORT) $((Get-Content "$root/other_host_key.pub") -replace ' [^ ]+$','')"
        Register-TestSshTarget -Name mitm -RemotePath "$root/r" -Extra @{ KnownHostsFile = $kh; AcceptNewHostKey = $true } -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetRefused*'
        $err[0].Exception.Message | Should -BeLike '*does not match*'
    }

    It 'reports a wrong key as an authentication error and an unreachable host as a connection error' {
        ssh-keygen -q -t ed25519 -N '' -f "$root/stranger_key" | Out-Null
        Register-TestSshTarget -Name wrongkey -RemotePath "$root/r" -Extra @{ KeyFile = "$root/stranger_key" } -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetRefused*'
        $err[0].CategoryInfo.Category | Should -Be 'AuthenticationError'

        Register-TestSshTarget -Name down -RemotePath "$root/r" -Extra @{ Port = 1 } -ErrorVariable err2 -ErrorAction SilentlyContinue | Out-Null
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'TargetUnreachable*'
        $err2[0].CategoryInfo.Category | Should -Be 'ConnectionError'
    }
}
