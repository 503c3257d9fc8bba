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

    It 'has a completer on every parameter that names a target or a watch Id' {
        $missing = foreach ($c in Get-Command -Module RealtimeMirror | Where-Object Name -ne 'Register-MirrorTarget') {
            foreach ($p in $c.Parameters.Values | Where-Object { $_.Name -in 'Target', 'Name', 'Id' -and $_.ParameterType -ne [switch] }) {
                $completer = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] }
                if (-not $completer) { "$($c.Name) -$($p.Name)" }
            }
        }
        $missing | Should -BeNullOrEmpty
        Get-Completions 'Resume-MirrorTarget -Name al' | Should -Be @('alpha')
        Get-Completions 'Get-MirrorVersion -Target al' | Should -Be @('alpha')
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
            Get-Completions 'Get-MirrorEvent -Id ' | Should -Contain "$($w.Id)"
        }
        finally { Stop-MirrorWatch -Id $w.Id -Confirm:$false }
    }
}

Describe 'Passwords and the target file' {
    It 'never shows a -Credential password on the returned target (Format-List *, ConvertTo-Json)' {
        $cred = [pscredential]::new('someone', (ConvertTo-SecureString 'S3cret-Pa55' -AsPlainText -Force))
        $t = Register-MirrorTarget -Name pw1 -HostName 127.0.0.1 -RemotePath /tmp/x -Credential $cred -NoConnect
        try {
            $t.PSObject.Properties.Name | Should -Not -Contain 'Password'
            ($t | Format-List * | Out-String) | Should -Not -Match 'S3cret-Pa55|Password'
            ($t | ConvertTo-Json) | Should -Not -Match 'S3cret-Pa55|Password'
            $g = Get-MirrorTarget pw1
            $g.PSObject.Properties.Name | Should -Not -Contain 'Password'
            ($g | Format-List * | Out-String) | Should -Not -Match 'S3cret-Pa55'
            Get-Content $env:REALTIMEMIRROR_CONFIG -Raw | Should -Not -Match 'S3cret-Pa55'
        }
        finally { Unregister-MirrorTarget pw1 -Confirm:$false }
    }

    It 'creates the target file 0600 and its folder 0700' -Skip:$IsWindows {
        $saved = $env:REALTIMEMIRROR_CONFIG
        $env:REALTIMEMIRROR_CONFIG = "$root/cfg-new/RealtimeMirror/targets.json"
        try {
            Register-MirrorTarget -Name modes -Path "$root/r-modes" | Out-Null
            (Get-Item $env:REALTIMEMIRROR_CONFIG).UnixMode | Should -Be '-rw-------'
            (Get-Item "$root/cfg-new/RealtimeMirror").UnixMode | Should -Be 'drwx------'
            # A rewrite keeps it private too.
            Register-MirrorTarget -Name modes2 -Path "$root/r-modes2" | Out-Null
            (Get-Item $env:REALTIMEMIRROR_CONFIG).UnixMode | Should -Be '-rw-------'
        }
        finally { $env:REALTIMEMIRROR_CONFIG = $saved }
    }
}

Describe 'Target names: wildcards, invalid patterns and an unreadable target file' {
    BeforeEach {
        Register-MirrorTarget -Name wild-a -Path "$root/r-wa" -Force | Out-Null
        Register-MirrorTarget -Name wild-b -Path "$root/r-wb" -Force | Out-Null
        Register-MirrorTarget -Name keep -Path "$root/r-keep" -Force | Out-Null
    }
    AfterAll { Get-MirrorTarget | Unregister-MirrorTarget -Confirm:$false }

    It 'Unregister-MirrorTarget takes wildcards (and -WhatIf)' {
        Unregister-MirrorTarget 'wild-*' -WhatIf
        (Get-MirrorTarget 'wild-*').Count | Should -Be 2
        Unregister-MirrorTarget 'WILD-*' -Confirm:$false
        (Get-MirrorTarget).Name | Should -Be @('keep')
        # A pattern that matches nothing is quiet, a name that matches nothing is an error.
        Unregister-MirrorTarget 'nothing*' -Confirm:$false -ErrorVariable err
        $err | Should -BeNullOrEmpty
        Unregister-MirrorTarget 'nothing' -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetNotFound*'
    }

    It 'takes an invalid wildcard pattern such as [ literally' {
        { Get-MirrorTarget '[' -ErrorAction SilentlyContinue -ErrorVariable err } | Should -Not -Throw
        $err = $null
        Get-MirrorTarget '[' -ErrorAction SilentlyContinue -ErrorVariable err | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetNotFound*'
        { Unregister-MirrorTarget '[' -Confirm:$false -ErrorAction SilentlyContinue } | Should -Not -Throw
        (Get-MirrorTarget).Count | Should -Be 3
    }

    It 'reports a corrupt target file as TargetStoreUnreadable from every command' {
        $saved = $env:REALTIMEMIRROR_CONFIG
        $env:REALTIMEMIRROR_CONFIG = "$root/corrupt.json"
        Set-Content $env:REALTIMEMIRROR_CONFIG '[ { not json'
        try {
            $checks = @(
                @{ Command = 'Get-MirrorTarget'; Params = @{} }
                @{ Command = 'Get-MirrorTarget'; Params = @{ Name = 'keep' } }
                @{ Command = 'Unregister-MirrorTarget'; Params = @{ Name = 'keep'; Confirm = $false } }
                @{ Command = 'Register-MirrorTarget'; Params = @{ Name = 'x'; Path = "$root/r-x" } }
                @{ Command = 'Sync-MirrorTree'; Params = @{ Path = "$root"; Target = 'keep' } }
            )
            foreach ($c in $checks) {
                $p = $c.Params
                $err = $null
                & $c.Command @p -ErrorAction SilentlyContinue -ErrorVariable err | Out-Null
                $err.Count | Should -BeGreaterThan 0 -Because $c.Command
                $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetStoreUnreadable*' -Because $c.Command
            }
        }
        finally { $env:REALTIMEMIRROR_CONFIG = $saved }
    }
}

Describe 'Times in local time' {
    It 'shows Registered, Started, event and target status times in local time, keeping UTC in *Utc' {
        Register-MirrorTarget -Name timed -Path "$root/r-timed" -Force | Out-Null
        New-Item -ItemType Directory "$root/timed-src" -Force | Out-Null
        $saved = $env:TZ
        $env:TZ = 'Asia/Kolkata'   # UTC+05:30, no daylight saving: local and UTC differ visibly
        try {
            $r = Invoke-ChildPwsh @"
`$t = Get-MirrorTarget timed
`$list = `$t | Format-List | Out-String
`$w = Start-MirrorWatch -Path '$root/timed-src'
`$i = Get-MirrorWatch -Id `$w.Id
Set-Content '$root/timed-src/new.txt' 'x'
`$e = Get-MirrorEvent -Watch `$w -Timeout 5 | Select-Object -First 1
Stop-MirrorWatch -Id `$w.Id -Confirm:`$false
`$svc = Start-MirrorWatch -Path '$root/timed-src' -Target timed -InitialSync
`$deadline = [datetime]::UtcNow.AddSeconds(30)
while (-not (Get-MirrorWatch -Id `$svc.Id).Targets[0].LastSync -and [datetime]::UtcNow -lt `$deadline) { Start-Sleep -Milliseconds 100 }
`$s = (Get-MirrorWatch -Id `$svc.Id).Targets[0]
Stop-MirrorWatch -Id `$svc.Id -Confirm:`$false
@{
    RegisteredKind = `$t.Registered.Kind.ToString(); RegisteredUtcKind = `$t.RegisteredUtc.Kind.ToString()
    RegisteredMatches = `$t.Registered -eq `$t.RegisteredUtc.ToLocalTime()
    EventKind = `$e.TimeStamp.Kind.ToString(); EventMatches = `$e.TimeStamp -eq `$e.TimeStampUtc.ToLocalTime()
    EventUtcRecent = ([datetime]::UtcNow - `$e.TimeStampUtc).TotalMinutes -lt 5
    WatchStartedKind = `$w.Started.Kind.ToString(); WatchStartedMatches = `$w.Started -eq `$w.StartedUtc.ToLocalTime()
    LastSyncKind = `$s.LastSync.Kind.ToString(); LastSyncMatches = `$s.LastSync -eq `$s.LastSyncUtc.ToLocalTime()
    LastSyncUtcRecent = ([datetime]::UtcNow - `$s.LastSyncUtc).TotalMinutes -lt 5
    Offset = [TimeZoneInfo]::Local.BaseUtcOffset.TotalMinutes
    ListShowsLocal = `$list -match [regex]::Escape(`$t.Registered.ToLocalTime().ToString())
    StartedKind = `$i.Started.Kind.ToString(); StartedUtcKind = `$i.StartedUtc.Kind.ToString()
    StartedMatches = `$i.Started -eq `$i.StartedUtc.ToLocalTime()
    StartedUtcRecent = ([datetime]::UtcNow - `$i.StartedUtc).TotalMinutes -lt 5
}
"@
        }
        finally { $env:TZ = $saved }
        $r.Offset | Should -Be 330
        $r.ListShowsLocal | Should -BeTrue
        $r.StartedKind | Should -Be 'Local'
        $r.StartedUtcKind | Should -Be 'Utc'
        $r.StartedMatches | Should -BeTrue
        $r.StartedUtcRecent | Should -BeTrue
        $r.RegisteredKind | Should -Be 'Local'; $r.RegisteredUtcKind | Should -Be 'Utc'; $r.RegisteredMatches | Should -BeTrue
        $r.EventKind | Should -Be 'Local'; $r.EventMatches | Should -BeTrue; $r.EventUtcRecent | Should -BeTrue
        $r.WatchStartedKind | Should -Be 'Local'; $r.WatchStartedMatches | Should -BeTrue
        $r.LastSyncKind | Should -Be 'Local'; $r.LastSyncMatches | Should -BeTrue; $r.LastSyncUtcRecent | Should -BeTrue
    }
}

Describe 'MirrorEvent.WatchId' {
    It 'carries the Id of the watch that saw it, for each of two watches' {
        New-Item -ItemType Directory "$root/wid-a", "$root/wid-b" -Force | Out-Null
        $a = Start-MirrorWatch -Path "$root/wid-a"
        $b = Start-MirrorWatch -Path "$root/wid-b"
        try {
            $a.Id | Should -Not -Be $b.Id
            Set-Content "$root/wid-a/x.txt" 'a'; Set-Content "$root/wid-b/y.txt" 'b'
            $ea = @(Get-MirrorEvent -Watch $a -Timeout 3 | Where-Object RelativePath -eq 'x.txt')
            $eb = @(Get-MirrorEvent -Id $b.Id -Timeout 3 | Where-Object RelativePath -eq 'y.txt')
            $ea.Count | Should -BeGreaterThan 0
            $eb.Count | Should -BeGreaterThan 0
            $ea.WatchId | Sort-Object -Unique | Should -Be $a.Id
            $eb.WatchId | Sort-Object -Unique | Should -Be $b.Id
            ($ea[0] | Format-List | Out-String) | Should -Match "WatchId\s+: $($a.Id)"
        }
        finally { Stop-MirrorWatch -Id $a.Id, $b.Id -Confirm:$false }
    }
}

Describe 'Version times in local time' {
    It 'shows a kept version''s Time and LastWriteTime in local time, keeping UTC in TimeUtc and LastWriteTimeUtc' {
        New-Item -ItemType Directory "$root/vt-src" -Force | Out-Null
        Set-Content "$root/vt-src/f.txt" 'first'
        [IO.File]::SetLastWriteTimeUtc("$root/vt-src/f.txt", [datetime]::new(2024, 1, 2, 3, 4, 5, [DateTimeKind]::Utc))
        Register-MirrorTarget -Name vt -Path "$root/r-vt" -KeepVersions -Force | Out-Null
        Sync-MirrorTree -Path "$root/vt-src" -Target vt | Out-Null
        Set-Content "$root/vt-src/f.txt" 'second, longer'
        Sync-MirrorTree -Path "$root/vt-src" -Target vt | Out-Null
        $saved = $env:TZ
        $env:TZ = 'Asia/Kolkata'
        try {
            $r = Invoke-ChildPwsh @"
`$v = Get-MirrorVersion -Target vt | Select-Object -First 1
`$restored = `$v | Restore-MirrorVersion -Destination '$root/vt-restored'
@{
    Kind = `$v.Time.Kind.ToString(); Matches = `$v.Time -eq `$v.TimeUtc.ToLocalTime(); UtcRecent = ([datetime]::UtcNow - `$v.TimeUtc).TotalMinutes -lt 5
    WriteKind = `$v.LastWriteTime.Kind.ToString(); WriteUtc = 'utc ' + `$v.LastWriteTimeUtc.ToString('o')
    Table = (`$v | Format-Table | Out-String); Local = `$v.Time.ToString('yyyy-MM-dd HH:mm:ss.fff')
    ByTime = @(Get-MirrorVersion -Target vt -Since `$v.Time.AddSeconds(-1)).Count
    Restored = `$restored.Action.ToString()
}
"@
        }
        finally { $env:TZ = $saved }
        $r.Kind | Should -Be 'Local'
        $r.Matches | Should -BeTrue
        $r.UtcRecent | Should -BeTrue
        $r.WriteKind | Should -Be 'Local'
        $r.WriteUtc | Should -Be 'utc 2024-01-02T03:04:05.0000000Z'
        $r.Table | Should -Match ([regex]::Escape($r.Local))
        $r.ByTime | Should -Be 1
        $r.Restored | Should -Be 'Restored'
        Get-Content "$root/vt-restored/f.txt" | Should -Be 'first'
    }
}

Describe 'Host keys checked by host' {
    BeforeAll {
        $line = (Get-Content $env:RTM_SSH_KNOWN_HOSTS | Where-Object { $_ -like "*ssh-ed25519*" } | Select-Object -First 1)
        $hostField, $type, $key = $line -split '\s+'
    }

    It 'refuses a host whose only listed key is of another type (mismatch, not unknown), even with -AcceptNewHostKey' {
        $kh = "$root/kh-othertype"
        Set-Content $kh "$hostField ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFakeFakeFake="
        Register-TestSshTarget -Name kt1 -RemotePath "$root/r-kt1" -Extra @{ KnownHostsFile = $kh; AcceptNewHostKey = $true } -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetRefused*'
        "$($err[0])" | Should -Match 'does not match'
        (Get-Content $kh).Count | Should -Be 1   # nothing recorded
        Get-MirrorTarget kt1 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'refuses a key marked @revoked' {
        $kh = "$root/kh-revoked"
        Set-Content $kh @($line, "@revoked * $type $key")
        Register-TestSshTarget -Name kt2 -RemotePath "$root/r-kt2" -Extra @{ KnownHostsFile = $kh } -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'TargetRefused*'
        "$($err[0])" | Should -Match 'revoked'
    }

    It 'still trusts the listed key' {
        $kh = "$root/kh-ok"
        Set-Content $kh $line
        Register-TestSshTarget -Name kt3 -RemotePath "$root/r-kt3" -Extra @{ KnownHostsFile = $kh } | Should -Not -BeNullOrEmpty
        Unregister-MirrorTarget kt3 -Confirm:$false
    }
}

Describe 'Module manifest' {
    It 'passes Test-ModuleManifest with gallery metadata' {
        $m = Test-ModuleManifest "$RepoRoot/RealtimeMirror.psd1"
        $m.ProjectUri | Should -Not -BeNullOrEmpty
        $m.LicenseUri | Should -Not -BeNullOrEmpty
        $m.ReleaseNotes | Should -Not -BeNullOrEmpty
        foreach ($tag in 'PSEdition_Core', 'Linux', 'Windows') { $m.Tags | Should -Contain $tag }
        $m.Tags | Where-Object { $_ -match '\s' } | Should -BeNullOrEmpty
        $m.ExportedCmdlets.Keys | Should -Contain 'Sync-MirrorTree'
    }

    It 'ships an MIT LICENSE at the top level' {
        "$RepoRoot/LICENSE" | Should -Exist
        Get-Content "$RepoRoot/LICENSE" -Raw | Should -Match 'MIT License'
    }

    It 'keeps Get-Help working' {
        (Get-Help Sync-MirrorTree).Synopsis | Should -Not -BeNullOrEmpty
        (Get-Help about_RealtimeMirror | Out-String) | Should -Match 'RealtimeMirror'
    }
}

Describe 'Sync-MirrorTree -Path wildcards and -LiteralPath' {
    BeforeAll {
        Register-MirrorTarget -Name wl -Path "$root/r-wl" -Force | Out-Null
        $src = "$root/wsrc"
        New-Item -ItemType Directory "$src/one", "$src/two", "$src/odd[1]" -Force | Out-Null
        Set-Content "$src/one/a.txt" 'one'
        Set-Content "$src/two/b.txt" 'two'
        Set-Content -LiteralPath "$src/odd[1]/c.txt" 'odd'
        Set-Content "$src/file.txt" 'not a tree'
    }
    BeforeEach { Remove-Item "$root/r-wl" -Recurse -Force -ErrorAction SilentlyContinue }

    It 'mirrors every directory a wildcard matches, each to its own subdirectory' {
        Sync-MirrorTree -Path "$src/t*o" -Target wl | Out-Null
        Get-Content "$root/r-wl/b.txt" | Should -Be 'two'   # one match: onto the replica root, like a plain -Path
        Remove-Item "$root/r-wl" -Recurse -Force
        Sync-MirrorTree -Path "$src/[ot]*" -Target wl | Out-Null
        Get-Content "$root/r-wl/one/a.txt" | Should -Be 'one'
        Get-Content "$root/r-wl/two/b.txt" | Should -Be 'two'
        "$root/r-wl/file.txt" | Should -Not -Exist
    }

    It 'reports a wildcard that matches no directory clearly' {
        Sync-MirrorTree -Path "$src/nothing*" -Target wl -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SourceNotFound*'
        "$($err[0])" | Should -Match 'No directory matches'
        Sync-MirrorTree -Path "$src/file*" -Target wl -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SourceNotFound*'
        "$root/r-wl" | Should -Not -Exist
    }

    It 'takes -LiteralPath as typed' {
        Sync-MirrorTree -LiteralPath "$src/odd[1]" -Target wl | Out-Null
        Get-Content "$root/r-wl/c.txt" | Should -Be 'odd'
        Sync-MirrorTree -LiteralPath "$src/nothing*" -Target wl -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SourceNotFound*'
    }
}

Describe 'Target round trip: Get-MirrorTarget | Register-MirrorTarget' {
    BeforeAll {
        Set-Content "$root/rt.exclude" '*.bak'
        $settings = @{
            Exclude = '*.tmp', 'cache/'; ExcludeFile = "$root/rt.exclude"; DeleteMode = 'Startup'; SettleMilliseconds = 250
            MaxDelayMilliseconds = 4000; KeepAliveSeconds = 7; IoTimeoutSeconds = 33; Compress = $true; BandwidthLimit = 512
            HaltThreshold = '25%'; NoOwner = $true
        }
        Register-MirrorTarget -Name rt-local -Path "$root/r-rt" @settings -Force | Out-Null
        Register-TestSshTarget -Name rt-ssh -RemotePath "$root/r-rt-ssh" -Extra (@{ Rsync = 'Never'; Port = [int]$env:RTM_SSH_PORT; Force = $true } + $settings) | Out-Null
        # What the target file holds for a target, less what a new registration changes.
        function Get-SavedTarget([string] $Name) {
            $t = (Get-Content $env:REALTIMEMIRROR_CONFIG -Raw | ConvertFrom-Json) | Where-Object Name -eq $Name
            $t.PSObject.Properties.Remove('Name'); $t.PSObject.Properties.Remove('Registered')
            $t | ConvertTo-Json -Compress
        }
    }

    It 'recreates a <Kind> target with every setting, from <Via>' -ForEach @(
        @{ Kind = 'local'; Via = 'the live object' }, @{ Kind = 'ssh'; Via = 'the live object' }
        @{ Kind = 'local'; Via = 'ConvertTo-Json | ConvertFrom-Json' }, @{ Kind = 'ssh'; Via = 'ConvertTo-Json | ConvertFrom-Json' }
        @{ Kind = 'local'; Via = 'Export-Clixml | Import-Clixml' }, @{ Kind = 'ssh'; Via = 'Export-Clixml | Import-Clixml' }
    ) {
        $source = Get-MirrorTarget "rt-$Kind"
        $object = switch ($Via) {
            'the live object' { $source }
            'ConvertTo-Json | ConvertFrom-Json' { $source | ConvertTo-Json | ConvertFrom-Json }
            'Export-Clixml | Import-Clixml' { $source | Export-Clixml "$root/rt.xml"; Import-Clixml "$root/rt.xml" }
        }
        $copy = $object | Register-MirrorTarget -Name "rt-$Kind-copy" -Force
        $copy.Name | Should -Be "rt-$Kind-copy"
        $copy.Location | Should -Be $source.Location
        Get-SavedTarget "rt-$Kind-copy" | Should -Be (Get-SavedTarget "rt-$Kind")
        $copy.Registered | Should -BeGreaterThan $source.Registered
    }

    It 'lets command-line settings override the copied ones, and keeps the object''s own name without -Name' {
        $copy = Get-MirrorTarget rt-local | Register-MirrorTarget -Name rt-override -DeleteMode Never -Exclude '*.log' -Force
        $copy.DeleteMode | Should -Be 'Never'
        $copy.Exclude | Should -Be @('*.log')
        $copy.SettleMilliseconds | Should -Be 250
        $err = $null
        Get-MirrorTarget rt-local | Register-MirrorTarget -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -Be 'TargetExists,RealtimeMirror.Cmdlets.RegisterMirrorTargetCommand'
        $err[0].TargetObject | Should -Be 'rt-local'
        (Get-MirrorTarget rt-local | Register-MirrorTarget -Force).Name | Should -Be 'rt-local'
    }

    It 'refuses an object that is not a target, naming it' {
        $err = $null
        [pscustomobject]@{ Name = 'nothing' } | Register-MirrorTarget -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -Be 'InvalidTargetObject,RealtimeMirror.Cmdlets.RegisterMirrorTargetCommand'
        $err[0].Exception.Message | Should -BeLike '*not a mirror target*Path*'
        Get-MirrorTarget nothing -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Format views' {
    It 'has a table and a list view for <_>' -ForEach @(
        'RealtimeMirror.Engine.Events.MirrorEvent', 'RealtimeMirror.Engine.Results.SyncResult', 'RealtimeMirror.Engine.Targets.MirrorTarget',
        'RealtimeMirror.Engine.Watching.MirrorWatch', 'RealtimeMirror.Cmdlets.MirrorWatchInfo', 'RealtimeMirror.Engine.Service.TargetStatus',
        'RealtimeMirror.Engine.Versions.MirrorVersion'
    ) {
        $controls = (Get-FormatData -TypeName $_).FormatViewDefinition.Control | ForEach-Object { $_.GetType().Name }
        $controls | Should -Contain 'TableControl'
        $controls | Should -Contain 'ListControl'
    }

    It 'covers every type a command declares as its output' {
        $declared = Get-Command -Module RealtimeMirror | ForEach-Object { $_.OutputType.Type } | Where-Object { $_ -and $_ -ne [string] } |
            ForEach-Object FullName | Sort-Object -Unique
        $declared | Should -Not -BeNullOrEmpty
        foreach ($t in $declared) {
            $controls = (Get-FormatData -TypeName $t).FormatViewDefinition.Control | ForEach-Object { $_.GetType().Name }
            $controls | Should -Contain 'TableControl' -Because "$t is a declared output type"
            $controls | Should -Contain 'ListControl' -Because "$t is a declared output type"
        }
    }

    It 'shows a watch from Start-MirrorWatch as a table of its paths, not type names' {
        New-Item -ItemType Directory "$root/view-src" -Force | Out-Null
        $w = Start-MirrorWatch -Path "$root/view-src"
        try {
            $table = $w | Out-String -Width 250
            $table | Should -Match "Id\s+State\s+Backend\s+Events\s+Started\s+Path"
            $table | Should -Match ([regex]::Escape("$root/view-src"))
            $table | Should -Not -Match 'RealtimeMirror\.'
            ($w | Format-List | Out-String) | Should -Match "Path\s+: .*view-src"
        }
        finally { Stop-MirrorWatch -Id $w.Id -Confirm:$false }
    }

    It 'names the roots Path on Start-MirrorWatch''s and Get-MirrorWatch''s objects alike, keeping Paths as an alias' {
        New-Item -ItemType Directory "$root/path-src" -Force | Out-Null
        $w = Start-MirrorWatch -Path "$root/path-src"
        try {
            $i = Get-MirrorWatch -Id $w.Id
            foreach ($o in $w, $i) {
                $o.Path | Should -Be @("$root/path-src")
                $o.Paths | Should -Be @("$root/path-src") -Because 'scripts written against the old name keep working'
                $o.PSObject.Properties['Paths'].MemberType | Should -Be 'AliasProperty'
            }
            ($w | Format-List | Out-String) | Should -Not -Match 'Paths\s+:'
            ($i | Format-List | Out-String) | Should -Match "Path\s+: .*path-src"
        }
        finally { Stop-MirrorWatch -Id $w.Id -Confirm:$false }
    }
}

Describe 'The README''s main command' {
    It 'prints one table of results, one line each, and nothing of Register''s, run as written against the loopback sshd' {
        $readme = Get-Content "$RepoRoot/README.md" -Raw
        $line = [regex]::Match($readme, "(?m)^dotnet tool update .*-Command '\./build\.ps1 -Task Build; (Import-Module [^']*Start-MirrorWatch[^']*)'$")
        $line.Success | Should -BeTrue -Because 'the README shows the main command'
        $command = $line.Groups[1].Value
        $command | Should -Match '^Import-Module \./RealtimeMirror\.psd1; Register-MirrorTarget -Name backup -HostName backup\.example\.net -User root -KeyFile ~/\.ssh/id_ed25519 -RemotePath /srv/data .*; Start-MirrorWatch /srv/data -Target backup -InitialSync -Wait$'
        # The loopback sshd's host, port and user; its key and a fresh known_hosts under a HOME of the test's own, so
        # ~/.ssh is the test's and -AcceptNewHostKey records there. The build step before it is what this suite ran.
        $src = "$root/readme-src"; $replica = "$root/readme-replica"
        New-Item -ItemType Directory "$src/sub", "$root/home/.ssh" -Force | Out-Null
        Set-Content "$src/a.txt" 'a'; Set-Content "$src/sub/b.txt" 'b'
        Copy-Item $env:RTM_SSH_KEY "$root/home/.ssh/id_ed25519"
        $command = $command.Replace('-HostName backup.example.net', "-HostName $env:RTM_SSH_HOST -Port $env:RTM_SSH_PORT").
            Replace('-User root', "-User $env:RTM_SSH_USER").Replace('-RemotePath /srv/data', "-RemotePath '$replica'").
            Replace('Start-MirrorWatch /srv/data', "Start-MirrorWatch '$src'")
        $exe = [Environment]::ProcessPath
        $psi = [Diagnostics.ProcessStartInfo]::new($exe)
        # As `dotnet pwsh.dll`: the dotnet tool's launcher would not pass SIGTERM on (README, Running as a service).
        if ((Split-Path -Leaf $exe) -like 'dotnet*') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in '-NoProfile', '-Command', "`$PSStyle.OutputRendering = 'PlainText'; $command") { $psi.ArgumentList.Add($a) }
        $psi.WorkingDirectory = $RepoRoot
        $psi.Environment['HOME'] = "$root/home"
        $psi.Environment['COLUMNS'] = '200'
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
        $p = [Diagnostics.Process]::Start($psi)
        $stdout = $p.StandardOutput.ReadToEndAsync(); $stderr = $p.StandardError.ReadToEndAsync()
        try {
            Wait-Until { (Test-Path "$replica/a.txt") -and (Test-Path "$replica/sub/b.txt") } -TimeoutSeconds 60 -Because 'the initial sync'
            Set-Content "$src/c.txt" 'written while it runs'
            Wait-Until { Test-Path "$replica/c.txt" } -TimeoutSeconds 30 -Because 'a change mirrored'
            Start-Sleep -Milliseconds 500
        }
        finally {
            kill -TERM $p.Id
            if (-not $p.WaitForExit(30000)) { $p.Kill() }
        }
        $p.ExitCode | Should -Be 0 -Because "SIGTERM drains and exits 0 ($($stderr.Result))"
        $stderr.Result | Should -BeNullOrEmpty
        $out = @($stdout.Result -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ })
        $out[0] | Should -Match '^Target\s+Action\s+Bytes\s+Matched\s+Via\s+RelativePath$' -Because "the results' table comes first:`n$($stdout.Result)"
        $out[1] | Should -Match '^-+\s+-+'
        @($out | Select-Object -Skip 2) | Should -Not -BeNullOrEmpty
        foreach ($row in $out | Select-Object -Skip 2) { $row | Should -Match '^backup\s+\w+\s+\d+\s+\d+\s+(Sftp|Rsync)\b' -Because 'one line per result' }
        ($out -join "`n") | Should -Match '(?m)^backup\s+Copied\s+.*\sa\.txt$'
        ($out -join "`n") | Should -Match '(?m)^backup\s+Copied\s+.*\sc\.txt$'
        ($out -join "`n") | Should -Not -Match '\w+\s+: ' -Because 'no list'
        ($out -join "`n") | Should -Not -Match 'HostName|Location|Kind' -Because 'no table of the registered target'
        Get-Content "$root/home/.ssh/known_hosts" -Raw | Should -Match "127\.0\.0\.1\]:$($env:RTM_SSH_PORT) ssh-ed25519 "
    }
}

Describe 'One error id per cause' {
    BeforeAll {
        $idsType = (Get-Command Sync-MirrorTree).ImplementingType.Assembly.GetType('RealtimeMirror.Cmdlets.ErrorIds')
        $codeIds = @($idsType.GetFields('Static,Public,NonPublic') | Where-Object IsLiteral | ForEach-Object { $_.GetValue($null) } | Sort-Object)
        $sources = Get-ChildItem "$RepoRoot/src/RealtimeMirror" -Recurse -Filter *.cs | Where-Object FullName -notmatch '/(obj|bin)/'
    }

    It 'lists in README''s error table exactly the ids the code raises' {
        $readme = Get-Content "$RepoRoot/README.md" -Raw
        $section = [regex]::Match($readme, '(?s)\| Error id \| Cause \|(.*?)\n\n').Groups[1].Value
        $documented = @([regex]::Matches($section, '(?m)^\| `(\w+)` \|') | ForEach-Object { $_.Groups[1].Value })
        $documented.Count | Should -BeGreaterThan 20
        @($documented | Group-Object | Where-Object Count -gt 1) | Should -BeNullOrEmpty -Because 'one row per id'
        Compare-Object $codeIds ($documented | Sort-Object) | ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" } |
            Should -BeNullOrEmpty -Because '<= only in the code, => only in the README'
    }

    It 'names every id through ErrorIds, and every id there is raised somewhere' {
        foreach ($f in $sources | Where-Object Name -ne 'ErrorIds.cs') {
            # An id given as a bare string, right before the ErrorCategory argument (also in a ?: pair).
            $bare = [regex]::Matches((Get-Content $f.FullName -Raw), '"[A-Za-z]+"\s*,\s*(e\s+is\s+\w+\s*\?\s*)?ErrorCategory\.')
            @($bare | ForEach-Object Value) | Should -BeNullOrEmpty -Because "$($f.Name) should use ErrorIds"
        }
        $all = ($sources | Where-Object Name -ne 'ErrorIds.cs' | ForEach-Object { Get-Content $_.FullName -Raw }) -join "`n"
        foreach ($id in $codeIds) { $all | Should -Match "ErrorIds\.$id\b" -Because "$id is listed, so it is raised" }
    }

    It 'gives a corrupt target file, a missing source and a name clash one id each, whichever command meets them' {
        $saved = $env:REALTIMEMIRROR_CONFIG
        $env:REALTIMEMIRROR_CONFIG = "$root/corrupt-ids.json"
        Set-Content $env:REALTIMEMIRROR_CONFIG '{ nope'
        try {
            Get-MirrorTarget -ErrorVariable e1 -ErrorAction SilentlyContinue | Out-Null
            Start-MirrorWatch "$root" -Target x -ErrorVariable e2 -ErrorAction SilentlyContinue | Out-Null
            $e1[0].FullyQualifiedErrorId | Should -BeLike 'TargetStoreUnreadable,*'
            $e2[0].FullyQualifiedErrorId | Should -BeLike 'TargetStoreUnreadable,*'
        }
        finally { $env:REALTIMEMIRROR_CONFIG = $saved }
        Register-MirrorTarget -Name ids -Path "$root/r-ids" -Force | Out-Null
        Sync-MirrorTree -Path "$root/no-such-dir" -Target ids -ErrorVariable s1 -ErrorAction SilentlyContinue | Out-Null
        Start-MirrorWatch -Path "$root/no-such-dir" -ErrorVariable s2 -ErrorAction SilentlyContinue | Out-Null
        $s1[0].FullyQualifiedErrorId | Should -BeLike 'SourceNotFound,*'
        $s2[0].FullyQualifiedErrorId | Should -BeLike 'SourceNotFound,*'
        New-Item -ItemType Directory "$root/clash/a/same", "$root/clash/b/same" -Force | Out-Null
        Get-Item "$root/clash/a/same", "$root/clash/b/same" | Sync-MirrorTree -Target ids -ErrorVariable c1 -ErrorAction SilentlyContinue | Out-Null
        { Start-MirrorWatch "$root/clash/a/same", "$root/clash/b/same" -Target ids -ErrorAction Stop } | Should -Throw -ErrorId 'SourceNameClash*'
        $c1[0].FullyQualifiedErrorId | Should -BeLike 'SourceNameClash,*'
    }
}

Describe 'Shared target settings' {
    It 'gives -<_> the same type and validation on Register-MirrorTarget, Sync-MirrorTree and Start-MirrorWatch' -ForEach @(
        'Compress', 'BandwidthLimit', 'HaltThreshold', 'KeepAliveSeconds', 'IoTimeoutSeconds', 'Exclude', 'ExcludeFile', 'DeleteMode'
    ) {
        $shapes = foreach ($c in 'Register-MirrorTarget', 'Sync-MirrorTree', 'Start-MirrorWatch') {
            $p = (Get-Command $c).Parameters[$_]
            $p | Should -Not -BeNullOrEmpty -Because "$c takes -$_"
            $checks = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateArgumentsAttribute] -or $_ -is [System.Management.Automation.SupportsWildcardsAttribute] } |
                ForEach-Object { if ($_ -is [System.Management.Automation.ValidateRangeAttribute]) { "Range $($_.MinRange)..$($_.MaxRange)" } else { $_.GetType().Name } }
            "$($p.ParameterType.FullName) $(@($checks | Sort-Object) -join ', ')"
        }
        @($shapes | Sort-Object -Unique).Count | Should -Be 1 -Because ($shapes -join ' / ')
    }

    It 'keeps Register-MirrorTarget''s saved defaults and lets a run override the saved values' {
        $t = Register-MirrorTarget -Name shared-defaults -Path "$root/r-shared" -Force
        $t.KeepAliveSeconds | Should -Be 15
        $t.IoTimeoutSeconds | Should -Be 60
        $t.Compress | Should -BeFalse
        $t.BandwidthLimit | Should -Be 0
        $t.HaltThreshold | Should -BeNullOrEmpty
        $t = Register-MirrorTarget -Name shared-defaults -Path "$root/r-shared" -KeepAliveSeconds 0 -IoTimeoutSeconds 5 -Compress -BandwidthLimit 64 -HaltThreshold ' 10% ' -Force
        "$($t.KeepAliveSeconds) $($t.IoTimeoutSeconds) $($t.Compress) $($t.BandwidthLimit) $($t.HaltThreshold)" | Should -Be '0 5 True 64 10%'
        Unregister-MirrorTarget shared-defaults -Confirm:$false
    }
}
