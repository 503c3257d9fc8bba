# The mirror service as systemd runs it: Start-MirrorWatch -Wait in a child pwsh, stopped with SIGTERM, watched
# through its log file, its journal datagrams and its sd_notify messages. Everything is asserted from outside the
# child, the way an admin sees it.
BeforeAll {
    . "$PSScriptRoot/TestHelpers.ps1"
    $root = Initialize-MirrorTest

    # Starts `Start-MirrorWatch ... -Wait` in a child pwsh with this test file's private target file. The pwsh dotnet
    # tool's launcher does not pass signals on, so the child is started as `dotnet pwsh.dll` (the real process).
    # -Command, not -EncodedCommand: with the latter pwsh writes its streams as CLIXML. No double quotes in $Command.
    # -AsIs: $Command is the whole script (it imports the module itself), as the systemd unit's is.
    function Start-ServiceChild([string] $Command, [hashtable] $Environment = @{}, [switch] $AsIs) {
        $exe = [Environment]::ProcessPath
        $launch = @(if ((Split-Path -Leaf $exe) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' })
        $script = if ($AsIs) { $Command } else { "`$PSStyle.OutputRendering = 'PlainText'; Import-Module '$RepoRoot/RealtimeMirror.psd1'; $Command" }
        $id = [guid]::NewGuid().ToString('N').Substring(0, 6)
        $envVars = @{
            REALTIMEMIRROR_CONFIG = $env:REALTIMEMIRROR_CONFIG
            NOTIFY_SOCKET = $null; WATCHDOG_USEC = $null; WATCHDOG_PID = $null; REALTIMEMIRROR_JOURNAL_SOCKET = $null
        }
        foreach ($k in $Environment.Keys) { $envVars[$k] = $Environment[$k] }
        $p = Start-Process -FilePath $exe -ArgumentList ($launch + @('-NoProfile', '-NonInteractive', '-Command', $script)) `
            -Environment $envVars -RedirectStandardOutput "$root/child-$id.out" -RedirectStandardError "$root/child-$id.err" -PassThru
        [pscustomobject]@{ Process = $p; Out = "$root/child-$id.out"; Err = "$root/child-$id.err" }
    }

    function Send-SigTerm($Child) { bash -c "kill -TERM $($Child.Process.Id)" }

    function Stop-ServiceChild($Child) {
        if (-not $Child.Process.HasExited) { $Child.Process.Kill(); $Child.Process.WaitForExit(5000) | Out-Null }
    }

    function Wait-ChildExit($Child, [int] $Seconds) {
        if (-not $Child.Process.WaitForExit($Seconds * 1000)) {
            Stop-ServiceChild $Child
            throw "The service did not exit within $Seconds s. stderr: $(Get-Content -Raw $Child.Err)"
        }
        $Child.Process.ExitCode
    }

    function Wait-LogLine([string] $Log, [string] $Pattern, [int] $TimeoutSeconds = 30) {
        Wait-Until { (Test-Path $Log) -and (Select-String -Path $Log -Pattern $Pattern -Quiet) } -TimeoutSeconds $TimeoutSeconds -Because "'$Pattern' in $Log"
    }

    # A unix datagram socket the test reads from (what systemd and journald listen on).
    function New-DatagramListener([string] $Path) {
        $s = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::Unix, [Net.Sockets.SocketType]::Dgram, [Net.Sockets.ProtocolType]::Unspecified)
        $s.Bind([Net.Sockets.UnixDomainSocketEndPoint]::new($Path))
        $s.ReceiveTimeout = 200
        $s
    }

    # Every datagram that arrives within $Seconds, or until $Until (a scriptblock over the list so far) is true.
    function Receive-Datagrams($Socket, [double] $Seconds, [scriptblock] $Until = { $false }) {
        $got = [Collections.Generic.List[byte[]]]::new()
        $buffer = [byte[]]::new(65536)
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while ([DateTime]::UtcNow -lt $deadline) {
            try { $n = $Socket.Receive($buffer) } catch [Net.Sockets.SocketException] { continue }
            $got.Add($buffer[0..($n - 1)])
            if (& $Until $got) { break }
        }
        , $got
    }

    # The journal's native protocol: NAME=value lines, or NAME, a 64-bit little-endian length, the raw value, "\n".
    function ConvertFrom-JournalDatagram([byte[]] $Bytes) {
        $fields = @{}
        $i = 0
        while ($i -lt $Bytes.Length) {
            $nl = [Array]::IndexOf($Bytes, [byte]10, $i)
            $line = $Bytes[$i..($nl - 1)]
            $eq = [Array]::IndexOf($line, [byte][char]'=')
            if ($eq -ge 0) {
                $name = [Text.Encoding]::ASCII.GetString($line, 0, $eq)
                $fields[$name] = [Text.Encoding]::UTF8.GetString($line, $eq + 1, $line.Length - $eq - 1)
                $i = $nl + 1
            }
            else {
                $name = [Text.Encoding]::ASCII.GetString($line)
                $len = [BitConverter]::ToUInt64($Bytes, $nl + 1)
                $fields[$name] = [Text.Encoding]::UTF8.GetString($Bytes, $nl + 9, $len)
                $i = $nl + 9 + $len + 1
            }
        }
        $fields
    }

    Register-TestSshTarget -Name ops -RemotePath "$root/replica" | Out-Null
}
AfterAll {
    Remove-MirrorTest
}

Describe 'Start-MirrorWatch -Wait as a service' {
    It 'on SIGTERM sends a burst written just before it, logs one line per file, and exits 0' {
        $src = "$root/burst"; New-Item -ItemType Directory $src | Out-Null
        $log = "$root/logs/burst.log"
        # A long settle window: the burst is still waiting in the coalescer when SIGTERM comes, so only the drain sends it.
        $child = Start-ServiceChild "Start-MirrorWatch '$src' -Target ops -Wait -LogPath '$log' -SettleMilliseconds 20000 -MaxDelayMilliseconds 60000 -Verbose"
        try {
            Wait-LogLine $log 'action=Ready'
            1..200 | ForEach-Object { [IO.File]::WriteAllText("$src/file $_.txt", "content $_") }
            Start-Sleep -Milliseconds 10
            Send-SigTerm $child
            Wait-ChildExit $child 40 | Should -Be 0
        }
        finally { Stop-ServiceChild $child }
        Assert-TreesEqual $src "$root/replica" -NoDirectoryTimes
        @(Get-ChildItem "$root/replica" -File).Count | Should -Be 200

        $lines = @(Get-Content $log)
        $copied = @($lines | Where-Object { $_ -match ' action=Copied ' })
        $copied.Count | Should -Be 200
        foreach ($i in 1, 77, 200) {
            $line = $copied | Where-Object { $_ -match "path=`"file $i\.txt`"" }
            $line | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO target=ops action=Copied path="file \d+\.txt" bytes=\d+$'
        }
        @($lines | Where-Object { $_ -match 'action=Stopping .*SIGTERM' }).Count | Should -Be 1
        ($lines | Where-Object { $_ -match 'action=Stopped' }) | Should -Match 'drained'
        # -Verbose: the connection, the host-key check, the rsync command line and batches, in the log at debug level ...
        $debug = $lines | Where-Object { $_ -match ' DEBUG target=ops ' }
        @($debug | Where-Object { $_ -match "Connecting Sftp to $($env:RTM_SSH_USER)@127\.0\.0\.1 port $($env:RTM_SSH_PORT)" }).Count | Should -BeGreaterThan 0
        ($debug | Where-Object { $_ -match 'Host key of 127\.0\.0\.1.*Trusted' }).Count | Should -BeGreaterThan 0
        ($debug | Where-Object { $_ -match 'rsync --server -' }).Count | Should -BeGreaterThan 0
        ($debug | Where-Object { $_ -match 'Batch of \d+ hint\(s\) .* done in \d+ ms' }).Count | Should -BeGreaterThan 0
        # ... and on the verbose stream, written by the pipeline thread.
        $out = Get-Content -Raw $child.Out
        $out | Should -Match 'VERBOSE: ops: Connecting Sftp'
        $out | Should -Match 'VERBOSE: ops: rsync push of \d+ entries; server command'
    }

    It '-Verbose shows a <Rsync> target''s connection with its keepalive and timeout, the host-key check, <Shows> and each batch''s size and duration' -ForEach @(
        @{ Rsync = 'Never'; Shows = 'no rsync command' }, @{ Rsync = 'Always'; Shows = 'the exact rsync server command' }
    ) {
        $name = "verbose-$Rsync"
        $src = "$root/$name"; New-Item -ItemType Directory $src | Out-Null
        Register-TestSshTarget -Name $name -RemotePath "$root/$name-replica" -Extra @{ Rsync = $Rsync; KeepAliveSeconds = 4; IoTimeoutSeconds = 9 } | Out-Null
        $log = "$root/logs/$name.log"
        $child = Start-ServiceChild "Start-MirrorWatch '$src' -Target $name -Wait -LogPath '$log' -SettleMilliseconds 50 -Verbose"
        try {
            Wait-LogLine $log 'action=Ready'
            # Ten files: enough for one rsync push where the host has rsync (fewer go as single uploads). Moved in as one
            # directory, they are one hint and so one batch; written one by one, they may settle into several small ones.
            $staging = New-Item -ItemType Directory "$root/$name-staging/batch" -Force
            1..10 | ForEach-Object { [IO.File]::WriteAllText("$staging/f$_.txt", 'thirteen byte') }
            Move-Item $staging "$src/batch"
            Wait-Until { @(Get-Content $log | Where-Object { $_ -match "target=$name action=Copied path=batch/f\d+\.txt bytes=13" }).Count -eq 10 } -Because 'the ten files'
            Send-SigTerm $child
            Wait-ChildExit $child 40 | Should -Be 0
        }
        finally { Stop-ServiceChild $child }
        $verbose = @(Get-Content $child.Out | Where-Object { $_ -like "VERBOSE: ${name}: *" } | ForEach-Object { $_.Substring("VERBOSE: ${name}: ".Length) })
        $user = [regex]::Escape($env:RTM_SSH_USER); $port = $env:RTM_SSH_PORT
        $client = if ($Rsync -eq 'Never') { 'Sftp' } else { 'Ssh' }  # over rsync: the exec channel's own login
        @($verbose -match "^Connecting $client to $user@127\.0\.0\.1 port $port \(keepalive 4 s, I/O timeout 9 s\)\.$").Count | Should -BeGreaterThan 0
        @($verbose -match "^Host key of 127\.0\.0\.1:$port \(ssh-ed25519 SHA256:[A-Za-z0-9+/]+\): Trusted in .*known_hosts\.$").Count | Should -BeGreaterThan 0
        $remote = [regex]::Escape("$root/$name-replica")
        $commands = @($verbose -match '^rsync push of \d+ entries; server command on 127\.0\.0\.1: ')
        if ($Rsync -eq 'Never') { $commands | Should -BeNullOrEmpty }
        else {
            # The command line exactly as the server runs it: rsync's receiver flags, then '.' and the replica.
            $commands[0] | Should -Match "^rsync push of \d+ entries; server command on 127\.0\.0\.1: rsync --server -[A-Za-z.]+( --[a-z-]+(=\S+)?)* \. '?$remote/?'?$"
        }
        # Each batch: its hints, the entries it applied, the bytes it sent, and how long it took; together the ten files.
        $batches = @($verbose | Where-Object { $_ -match '^Batch of \d+ hint\(s\) in 1 root\(s\) done in \d+ ms: (\d+) entries applied, (\d+) B sent; queue \d+\.$' } | ForEach-Object {
                [pscustomobject]@{ Entries = [int]$Matches[1]; Bytes = [long]$Matches[2] } })
        $batches.Count | Should -BeGreaterThan 0
        ($batches | Measure-Object Entries -Sum).Sum | Should -BeGreaterOrEqual 10
        ($batches | Measure-Object Bytes -Sum).Sum | Should -Be 130
        # The same lines in the log file, at debug level.
        @(Get-Content $log | Where-Object { $_ -match " DEBUG target=$name .*Batch of \d+ hint" }).Count | Should -Be $batches.Count
    }

    It 'holds the workers back while a slow consumer of -Wait falls behind, and loses nothing' {
        $src = "$root/slow-consumer"; New-Item -ItemType Directory $src | Out-Null
        1..12000 | ForEach-Object { [IO.File]::WriteAllText("$src/f$_.txt", "$_") }
        Register-MirrorTarget -Name slow -Path "$root/slow-replica" | Out-Null
        $go = "$root/slow-consumer.go"
        # The consumer takes one result, then waits for the test's word: the service's output buffer (10,000) fills.
        $child = Start-ServiceChild ("Start-MirrorWatch '$src' -Target slow -InitialSync -Wait | ForEach-Object -Begin { `$n = 0 } -Process { " +
            "if (`$n++ -eq 0) { while (-not (Test-Path '$go')) { Start-Sleep -Milliseconds 100 } }; `$_.RelativePath }")
        $file = "$env:REALTIMEMIRROR_RUNTIME_DIR/$($child.Process.Id)-1.json"
        function Get-Applied { try { (Get-Content -Raw $file | ConvertFrom-Json).Targets[0].FilesApplied } catch { -1 } }
        try {
            # Backpressure: the worker stops applying once the buffer is full, instead of dropping what it cannot hand over.
            Wait-Until { (Get-Applied) -ge 10000 } -TimeoutSeconds 120 -Because 'the buffer filling'
            Start-Sleep -Seconds 3
            $held = Get-Applied
            Start-Sleep -Seconds 2
            Get-Applied | Should -Be $held -Because 'the worker waits for the consumer'
            $held | Should -BeLessThan 12000
            New-Item -ItemType File $go | Out-Null
            Wait-Until { (Get-Applied) -ge 12000 -and @(Get-ChildItem "$root/slow-replica" -File).Count -eq 12000 } -TimeoutSeconds 120 -Because 'the rest once the consumer reads on'
            Send-SigTerm $child
            Wait-ChildExit $child 60 | Should -Be 0
        }
        finally { Stop-ServiceChild $child }
        $names = @(Get-Content $child.Out | Where-Object { $_ -match '^f\d+\.txt$' })
        $names.Count | Should -Be 12000 -Because 'every result reached the consumer, once'
        @($names | Sort-Object -Unique).Count | Should -Be 12000
    }

    It 'rotates its log at -LogMaxBytes, keeping FILE.1..FILE.5' {
        $src = "$root/rotate"; New-Item -ItemType Directory $src | Out-Null
        Register-TestSshTarget -Name rot -RemotePath "$root/rotate-replica" | Out-Null
        $log = "$root/logs/rotate.log"
        $child = Start-ServiceChild "Start-MirrorWatch '$src' -Target rot -Wait -LogPath '$log' -LogMaxBytes 2048 | Out-Null"
        try {
            Wait-LogLine $log 'action=Ready'
            1..100 | ForEach-Object { [IO.File]::WriteAllText("$src/r$_.txt", "$_") }
            Wait-Until { @(Get-ChildItem "$root/rotate-replica" -File).Count -eq 100 } -Because 'the files on the replica'
            Send-SigTerm $child
            Wait-ChildExit $child 40 | Should -Be 0
        }
        finally { Stop-ServiceChild $child }
        $files = @(Get-ChildItem "$root/logs" -Filter 'rotate.log*')
        $files.Name | Should -Contain 'rotate.log.1'
        $files.Name | Should -Contain 'rotate.log.2'
        $files.Name | Should -Not -Contain 'rotate.log.6'
        foreach ($f in $files) { $f.Length | Should -BeLessOrEqual 2048 }
        # ~100 lines of ~75 bytes fit in the six files: every file is still there, once, across the rotation.
        $paths = @($files | Get-Content | Where-Object { $_ -match 'action=Copied path=(r\d+\.txt)' } | ForEach-Object { $Matches[1] })
        ($paths | Sort-Object -Unique).Count | Should -Be 100
        $paths.Count | Should -Be 100
    }

    It 'tells systemd READY=1, STATUS=, WATCHDOG=1 and STOPPING=1 through NOTIFY_SOCKET' {
        $src = "$root/notify"; New-Item -ItemType Directory $src | Out-Null
        [IO.File]::WriteAllText("$src/before.txt", 'x')
        Register-TestSshTarget -Name ntf -RemotePath "$root/notify-replica" | Out-Null
        $sock = New-DatagramListener "$root/notify.sock"
        try {
            $child = Start-ServiceChild "Start-MirrorWatch '$src' -Target ntf -InitialSync -Wait | Out-Null" @{ NOTIFY_SOCKET = "$root/notify.sock"; WATCHDOG_USEC = '2000000' }
            try {
                $got = Receive-Datagrams $sock 30 {
                    param($l)
                    $m = @($l | ForEach-Object { [Text.Encoding]::UTF8.GetString($_) })
                    $ready = [array]::IndexOf([string[]]$m, 'READY=1')
                    # READY=1, then a STATUS= sent after it, and the watchdog pinging.
                    $ready -ge 0 -and @($m[$ready..($m.Count - 1)] | Where-Object { $_ -like 'STATUS=*' }).Count -ge 1 -and @($m | Where-Object { $_ -eq 'WATCHDOG=1' }).Count -ge 2
                }
                $messages = @($got | ForEach-Object { [Text.Encoding]::UTF8.GetString($_) })
                $messages | Should -Contain 'READY=1'
                $messages | Should -Contain 'WATCHDOG=1'
                $status = @($messages[$messages.IndexOf('READY=1')..($messages.Count - 1)] | Where-Object { $_ -like 'STATUS=*' })
                $status.Count | Should -BeGreaterThan 0
                $status[0] | Should -Match '^STATUS=ntf: Idle, queue 0, lag \d+\.\d s$'
                # READY only once the initial sync is done.
                Test-Path "$root/notify-replica/before.txt" | Should -BeTrue
                Send-SigTerm $child
                $after = Receive-Datagrams $sock 10 { param($l) @($l | Where-Object { [Text.Encoding]::UTF8.GetString($_) -eq 'STOPPING=1' }).Count -ge 1 }
                @($after | ForEach-Object { [Text.Encoding]::UTF8.GetString($_) }) | Should -Contain 'STOPPING=1'
                Wait-ChildExit $child 40 | Should -Be 0
            }
            finally { Stop-ServiceChild $child }
        }
        finally { $sock.Dispose() }
    }

    It 'runs the shipped unit''s ExecStart as systemd would: READY=1, the files mirrored, SIGTERM exits 0' {
        $unit = Get-Content "$RepoRoot/bin/systemd/realtimemirror@.service"
        $exec = ($unit | Where-Object { $_ -like 'ExecStart=*' }).Substring('ExecStart='.Length)
        $exec -match '^/usr/bin/pwsh -NoProfile -NonInteractive -Command "(.*)"$' | Should -BeTrue -Because "ExecStart is $exec"
        $script = $Matches[1]
        # systemd's part: %i is the instance (the target), ${VAR} the unit's Environment= and the instance's .env file.
        $src = "$root/unit-src"; New-Item -ItemType Directory $src | Out-Null
        [IO.File]::WriteAllText("$src/before.txt", 'before the start')
        Register-TestSshTarget -Name unit -RemotePath "$root/unit-replica" | Out-Null
        $vars = @{ RTM_MODULE = "$RepoRoot/RealtimeMirror.psd1"; RTM_SOURCE = $src; RTM_LOG = "$root/logs/unit.log" }
        $script = $script.Replace('%i', 'unit')
        foreach ($k in $vars.Keys) { $script = $script.Replace("`${$k}", $vars[$k]) }
        $script | Should -Not -Match '\$\{' -Because 'every variable the unit uses has a value in the unit or the .env file the README describes'
        $sock = New-DatagramListener "$root/unit-notify.sock"
        try {
            $child = Start-ServiceChild $script @{ NOTIFY_SOCKET = "$root/unit-notify.sock" } -AsIs
            try {
                $got = Receive-Datagrams $sock 60 { param($l) @($l | Where-Object { [Text.Encoding]::UTF8.GetString($_) -eq 'READY=1' }).Count -ge 1 }
                @($got | ForEach-Object { [Text.Encoding]::UTF8.GetString($_) }) | Should -Contain 'READY=1'
                Test-Path "$root/unit-replica/before.txt" | Should -BeTrue -Because 'the unit runs the initial sync before READY=1'
                [IO.File]::WriteAllText("$src/after.txt", 'while running')
                Wait-Until { Test-Path "$root/unit-replica/after.txt" } -Because 'a live change'
                Send-SigTerm $child
                Wait-ChildExit $child 40 | Should -Be 0
            }
            finally { Stop-ServiceChild $child }
        }
        finally { $sock.Dispose() }
        Get-Content -Raw $vars.RTM_LOG | Should -Match 'action=Copied path=after\.txt'
    }

    It 'ships a unit whose settings and command agree with the README and the cmdlet''s parameters' {
        $unitText = Get-Content -Raw "$RepoRoot/bin/systemd/realtimemirror@.service"
        $unitText | Should -Be (Get-Content -Raw "$RepoRoot/src/RealtimeMirror/systemd/realtimemirror@.service")
        $unit = $unitText -split "`n"
        $settings = @{}
        foreach ($line in $unit) { if ($line -match '^(\w+)=(.*)$') { $settings[$Matches[1]] = $Matches[2] } }
        $settings.Type | Should -Be 'notify'
        $settings.NotifyAccess | Should -Be 'main'
        $settings.Restart | Should -Be 'on-failure'
        $settings.RestartPreventExitStatus | Should -Be '1' -Because 'a refused target exits 1 and restarting cannot help'
        [int]($settings.TimeoutStopSec) | Should -BeGreaterThan 30 -Because 'the drain takes up to -DrainTimeoutSeconds (30 s by default)'
        # The README names the same settings and the same command.
        $readme = Get-Content -Raw "$RepoRoot/README.md"
        $runs = [regex]::Match($readme, 'The unit runs `([^`]+)`')
        $runs.Success | Should -BeTrue
        $settings.ExecStart | Should -BeLike "*; $($runs.Groups[1].Value)*"
        foreach ($m in [regex]::Matches($readme.Substring($readme.IndexOf('The unit runs')), '`(\w+)=([^`]+)`')) {
            $settings[$m.Groups[1].Value] | Should -Be $m.Groups[2].Value -Because "the README says $($m.Value)"
        }
        $perInstance = [regex]::Match($readme, 'Per-instance settings go in [^.]*\.').Value
        $perInstance | Should -Not -BeNullOrEmpty
        foreach ($var in [regex]::Matches($perInstance, '`(RTM_\w+)`') | ForEach-Object { $_.Groups[1].Value }) {
            $unitText | Should -Match "\$\{$var\}" -Because "the README tells admins to set $var"
        }
        # What the unit's own comment offers for the .env file is used by ExecStart, and has a default.
        $offered = @($unit | Where-Object { $_ -match '^#.*Per-instance settings' } | ForEach-Object { [regex]::Matches($_, '(RTM_\w+)=') } | ForEach-Object { $_.Groups[1].Value })
        $offered.Count | Should -BeGreaterThan 0
        foreach ($var in $offered) {
            $settings.ExecStart | Should -Match "\$\{$var\}" -Because "the unit's comment offers $var"
            $unitText | Should -Match "(?m)^Environment=$var=" -Because "$var needs a default"
        }
        # Every parameter the unit passes is one Start-MirrorWatch has.
        $settings.ExecStart -match '-Command "(.*)"$' | Should -BeTrue
        $ast = [Management.Automation.Language.Parser]::ParseInput($Matches[1], [ref]$null, [ref]$null)
        $call = $ast.FindAll({ param($n) $n -is [Management.Automation.Language.CommandAst] -and $n.GetCommandName() -eq 'Start-MirrorWatch' }, $true) | Select-Object -First 1
        $call | Should -Not -BeNullOrEmpty
        $known = (Get-Command Start-MirrorWatch).Parameters.Keys
        foreach ($p in $call.CommandElements | Where-Object { $_ -is [Management.Automation.Language.CommandParameterAst] }) {
            $known | Should -Contain $p.ParameterName
        }
    }

    It 'understands an abstract-namespace NOTIFY_SOCKET (@name)' {
        $src = "$root/abstract"; New-Item -ItemType Directory $src | Out-Null
        $name = 'rtm-test-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $sock = New-DatagramListener ("`0" + $name)
        try {
            $child = Start-ServiceChild "Start-MirrorWatch '$src' -Target ops -Wait | Out-Null" @{ NOTIFY_SOCKET = "@$name" }
            try {
                $got = Receive-Datagrams $sock 30 { param($l) @($l | Where-Object { [Text.Encoding]::UTF8.GetString($_) -eq 'READY=1' }).Count -ge 1 }
                @($got | ForEach-Object { [Text.Encoding]::UTF8.GetString($_) }) | Should -Contain 'READY=1'
                Send-SigTerm $child
                Wait-ChildExit $child 40 | Should -Be 0
            }
            finally { Stop-ServiceChild $child }
        }
        finally { $sock.Dispose() }
    }

    It 'exits 1 within seconds when every target is refused for good (host key changed)' {
        $src = "$root/badkey"; New-Item -ItemType Directory $src | Out-Null
        ssh-keygen -q -t ed25519 -N '' -f "$root/other_host_key" | Out-Null
        Set-Content "$root/known_hosts_wrong" "[127.0.0.1]:$($env:RTM_SSH_PORT) $((Get-Content "$root/other_host_key.pub") -replace ' [^ ]+$', '')"
        Register-TestSshTarget -Name badkey -RemotePath "$root/badkey-replica" -Extra @{ KnownHostsFile = "$root/known_hosts_wrong"; NoConnect = $true } | Out-Null
        $log = "$root/logs/badkey.log"
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $child = Start-ServiceChild "Start-MirrorWatch '$src' -Target badkey -Wait -LogPath '$log'"
        # Exactly 1: the unit's RestartPreventExitStatus=1 keeps systemd from restarting into the same refusal.
        try { Wait-ChildExit $child 30 | Should -Be 1 }
        finally { Stop-ServiceChild $child }
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 20
        $err = Get-Content -Raw $child.Err
        $err | Should -Match 'does not match'
        $err | Should -Match 'refused for good'
        Get-Content -Raw $log | Should -Match 'ERROR target=badkey action=Error msg=".*does not match'
        Test-Path "$root/badkey-replica" | Should -BeFalse
    }

    It 'exits 1 when its only target refuses the login for good (authentication refused)' {
        $src = "$root/badauth"; New-Item -ItemType Directory $src | Out-Null
        ssh-keygen -q -t ed25519 -N '' -f "$root/unknown_client_key" | Out-Null
        Register-TestSshTarget -Name badauth -RemotePath "$root/badauth-replica" -Extra @{ KeyFile = "$root/unknown_client_key"; NoConnect = $true } | Out-Null
        $child = Start-ServiceChild "Start-MirrorWatch '$src' -Target badauth -Wait"
        try { Wait-ChildExit $child 30 | Should -Be 1 }
        finally { Stop-ServiceChild $child }
        $err = Get-Content -Raw $child.Err
        $err | Should -Match 'refused authentication'
        $err | Should -Match 'refused for good'
        Test-Path "$root/badauth-replica" | Should -BeFalse
    }

    It 'keeps retrying a target that is only unreachable (no exit)' {
        $src = "$root/down"; New-Item -ItemType Directory $src | Out-Null
        Register-TestSshTarget -Name down -RemotePath "$root/down-replica" -Extra @{ Port = 2298; NoConnect = $true } | Out-Null
        $log = "$root/logs/down.log"
        $child = Start-ServiceChild "Start-MirrorWatch '$src' -Target down -Wait -LogPath '$log' -DrainTimeoutSeconds 1 2>`$null"
        try {
            Wait-LogLine $log 'ERROR target=down action=Error .*cannot reach'
            Start-Sleep -Seconds 3
            $child.Process.HasExited | Should -BeFalse
            Send-SigTerm $child
            Wait-ChildExit $child 20 | Should -Be 0
        }
        finally { Stop-ServiceChild $child }
        Get-Content -Raw $log | Should -Match 'action=Stopped msg="Service stopped \(drain timed out\)|action=Stopped msg="Service stopped \(drained\)'
    }

    It 'logs results and errors in background mode too (no -Wait, nothing on the pipeline)' {
        $src = "$root/background"; New-Item -ItemType Directory $src | Out-Null
        Register-TestSshTarget -Name bg -RemotePath "$root/background-replica" | Out-Null
        if (-not (Test-Path "$root/known_hosts_wrong")) {
            ssh-keygen -q -t ed25519 -N '' -f "$root/other_host_key" | Out-Null
            Set-Content "$root/known_hosts_wrong" "[127.0.0.1]:$($env:RTM_SSH_PORT) $((Get-Content "$root/other_host_key.pub") -replace ' [^ ]+$', '')"
        }
        Register-TestSshTarget -Name bgbad -RemotePath "$root/bgbad-replica" -Extra @{ KnownHostsFile = "$root/known_hosts_wrong"; NoConnect = $true } | Out-Null
        $log = "$root/logs/background.log"
        $w = Start-MirrorWatch $src -Target bg, bgbad -LogPath $log
        try {
            [IO.File]::WriteAllText("$src/bg file.txt", 'in the background')
            Wait-LogLine $log 'INFO target=bg action=Copied path="bg file.txt" bytes=17'
            Wait-LogLine $log 'ERROR target=bgbad action=Error msg=".*does not match'
        }
        finally { $w | Stop-MirrorWatch }
        Get-Content -Raw $log | Should -Match 'INFO action=Started msg="Mirroring .*background to bg, bgbad\."'
    }

    It 'sends structured records to the journal socket, names as exact bytes' {
        $src = "$root/journal"; New-Item -ItemType Directory $src | Out-Null
        Register-TestSshTarget -Name jrn -RemotePath "$root/journal-replica" | Out-Null
        $sock = New-DatagramListener "$root/journal.sock"
        try {
            $child = Start-ServiceChild "Start-MirrorWatch '$src' -Target jrn -Wait | Out-Null" @{ REALTIMEMIRROR_JOURNAL_SOCKET = "$root/journal.sock" }
            try {
                Receive-Datagrams $sock 30 { param($l) $l.Count -gt 0 -and (ConvertFrom-JournalDatagram $l[-1]).RTM_ACTION -eq 'Ready' } | Out-Null
                [IO.File]::WriteAllText("$src/plain.txt", 'hello journal')
                [IO.File]::WriteAllText("$src/new`nline.txt", 'two lines in a name')
                $got = Receive-Datagrams $sock 20 { param($l) @($l | ForEach-Object { ConvertFrom-JournalDatagram $_ } | Where-Object RTM_ACTION -eq 'Copied').Count -ge 2 }
                Send-SigTerm $child
                Wait-ChildExit $child 40 | Should -Be 0
            }
            finally { Stop-ServiceChild $child }
        }
        finally { $sock.Dispose() }
        $records = @($got | ForEach-Object { ConvertFrom-JournalDatagram $_ })
        $plain = $records | Where-Object RTM_PATH -eq 'plain.txt'
        $plain.RTM_ACTION | Should -Be 'Copied'
        $plain.RTM_TARGET | Should -Be 'jrn'
        $plain.RTM_BYTES | Should -Be '13'
        $plain.PRIORITY | Should -Be '6'
        $plain.SYSLOG_IDENTIFIER | Should -Be 'realtimemirror'
        $plain.MESSAGE | Should -Be 'jrn: Copied plain.txt (13 B)'
        ($records | Where-Object RTM_PATH -eq "new`nline.txt").RTM_ACTION | Should -Be 'Copied'
    }
}
