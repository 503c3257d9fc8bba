#!/usr/bin/env pwsh
<#
.SYNOPSIS
    RealtimeMirror against what admins would use instead, side by side on this machine in one run.
.DESCRIPTION
    latency : write a small file, time until it is complete on the replica (p50/p99 over -LatencyWrites writes):
              RealtimeMirror service vs lsyncd (rsyncssh, delay 0) vs an inotifywait + rsync loop.
    burst   : -BurstFiles files of 4 KiB in -BurstDirs directories at once; time until the replica has them all:
              RealtimeMirror vs lsyncd vs one `rsync -a` of the same tree (the practical limit).
    bigfile : a -BigFileBytes file: touch, append 1 MiB, insert 1 KiB in the middle; loopback bytes and time,
              Sync-MirrorTree vs `rsync -a`.
    compress: a compressible text tree (-CompressFiles files of -CompressFileBytes log-like text) sent to an empty
              replica; loopback bytes and time, Sync-MirrorTree -Compress vs `rsync -az` (and `rsync -a` for scale).
    idle    : CPU and memory while watching -IdleDirs directories with no changes: RealtimeMirror vs lsyncd vs inotifywait.
    scale   : watching -ScaleDirs directories (each count) with each backend: start-up time, memory of the process,
              kernel watches/marks held, idle CPU; vs lsyncd (its inotify watches set up). -Backends picks the backends.
    All traffic goes to the throwaway sshd on 127.0.0.1. Results: printed, and written to tests/bench/results/latest.md.
#>
[CmdletBinding()]
param(
    [int] $LatencyWrites = 200,
    [int] $BurstFiles = 10000,
    [int] $BurstDirs = 200,
    [long] $BigFileBytes = 1GB,
    [int] $IdleDirs = 20000,
    [int] $IdleSeconds = 30,
    # Seconds before the idle measurement starts: the initial sync, and .NET's tiered JIT recompiling hot methods
    # in the background, are start-up costs, not idle costs.
    [int] $IdleWarmup = 60,
    # Files mirrored in a separate directory before each timed burst, so that a contender is measured warm, as a
    # long-running service is (the first seconds of a .NET process go partly to compiling hot code). 0: cold start.
    [int] $BurstWarmup = 0,
    # Burst and big-file steps run this many times; the table shows the median (min-max in the note).
    [int] $Repeat = 3,
    # The big-file step's trees live on a tmpfs unless this is set: writing a new 1 GiB file to this VM's disk took
    # 2 s one run and 5 s the next for the same rsync, which drowned the difference between the contenders.
    [switch] $BigFileOnDisk,
    # Untimed touch-and-sync rounds by every contender before the timed big-file steps: the first delta push of a .NET
    # process compiles its matching code while it runs (seen: 4.7 s against 1.6-2.5 s for the next ones), a start-up
    # cost a service pays once, which one-shot rsync processes do not have to.
    [int] $BigFileWarmup = 1,
    # Latency runs once per backend listed (Fanotify needs root with CAP_SYS_ADMIN; it is left out elsewhere).
    [ValidateSet('Fanotify', 'Inotify', 'Portable')]
    [string[]] $Backends = @('Fanotify', 'Inotify'),
    [int[]] $ScaleDirs = @(20000, 200000),
    [int] $ScaleIdleSeconds = 10,
    # The compress step's tree: this many text files of about this size each.
    [int] $CompressFiles = 200,
    [int] $CompressFileBytes = 256KB,
    [ValidateSet('latency', 'burst', 'bigfile', 'compress', 'idle', 'scale')]
    [string[]] $Only = @('latency', 'burst', 'bigfile', 'compress', 'idle', 'scale')
)
$ErrorActionPreference = 'Stop'
$Repo = (Resolve-Path "$PSScriptRoot/../..").ProviderPath
# Per run: two benches on one machine (several checkouts) must not delete each other's trees.
$Work = "/tmp/rtm-bench-$PID"
Remove-Item $Work -Recurse -Force -ErrorAction SilentlyContinue
New-Item -ItemType Directory $Work | Out-Null

# ---- peers: lsyncd, rsync, inotifywait, sshd ------------------------------------------------------------------
$missing = @('lsyncd', 'rsync', 'inotifywait', 'sshd') | Where-Object { -not (Get-Command $_ -ErrorAction SilentlyContinue) -and -not (Test-Path "/usr/sbin/$_") }
if ($missing) {
    Write-Host "Installing: lsyncd rsync inotify-tools openssh-server (missing: $missing)"
    # As root run apt-get itself; otherwise through sudo (an empty splat before a command name is no command at all).
    function Invoke-AsRoot { if ((id -u) -eq '0') { & $args[0] @($args | Select-Object -Skip 1) } else { sudo @args } }
    Invoke-AsRoot apt-get update -qq | Out-Null
    Invoke-AsRoot apt-get install -y -qq lsyncd rsync inotify-tools openssh-server openssh-client | Out-Null
}
foreach ($line in (bash "$Repo/tests/sshd/start-test-sshd.sh")) { $k, $v = $line -split '=', 2; if ($k -like 'RTM_*') { Set-Item "env:$k" $v } }
$SshCmd = "ssh -p $env:RTM_SSH_PORT -i $env:RTM_SSH_KEY -o UserKnownHostsFile=$env:RTM_SSH_KNOWN_HOSTS -o StrictHostKeyChecking=yes -o BatchMode=yes"
$Remote = "$env:RTM_SSH_USER@$env:RTM_SSH_HOST"
$watches = [int](Get-Content /proc/sys/fs/inotify/max_user_watches)
if ($watches -lt ($IdleDirs * 3 + 10000)) { try { Set-Content /proc/sys/fs/inotify/max_user_watches ($IdleDirs * 3 + 10000) } catch { Write-Warning "inotify max_user_watches is $watches; raise it for the idle test." } }

$env:REALTIMEMIRROR_CONFIG = "$Work/targets.json"
Import-Module "$Repo/RealtimeMirror.psd1" -Force
$rows = [Collections.Generic.List[object]]::new()
function Add-Row($Measure, $Contender, $Value, $Unit, $Note = '') {
    $rows.Add([pscustomobject]@{ Measure = $Measure; Contender = $Contender; Value = $Value; Unit = $Unit; Note = $Note })
    Write-Host ("{0,-28} {1,-28} {2,12} {3} {4}" -f $Measure, $Contender, $Value, $Unit, $Note)
}
function Get-LoopbackBytes { [long](((Get-Content /proc/net/dev | Where-Object { $_ -match '^\s*lo:' }) -split '\s+' | Where-Object { $_ })[1]) }
function New-Dirs([string[]] $Paths) { foreach ($p in $Paths) { New-Item -ItemType Directory $p -Force | Out-Null } }

# ---- contenders, each a background process mirroring $Src to $Dst over the loopback sshd --------------------------
function Start-RealtimeMirror([string] $Src, [string] $Dst, [string] $Backend = 'Auto') {
    Register-MirrorTarget -Name bench -HostName $env:RTM_SSH_HOST -Port $env:RTM_SSH_PORT -User $env:RTM_SSH_USER -KeyFile $env:RTM_SSH_KEY `
        -KnownHostsFile $env:RTM_SSH_KNOWN_HOSTS -RemotePath $Dst -Force | Out-Null
    $script = "`$env:REALTIMEMIRROR_CONFIG='$Work/targets.json'; Import-Module '$Repo/RealtimeMirror.psd1'; Start-MirrorWatch '$Src' -Target bench -InitialSync -Wait -Backend $Backend | Out-Null"
    Start-Process (Get-Command pwsh).Source -ArgumentList '-NoProfile', '-Command', $script -PassThru -RedirectStandardError "$Work/rtm.err" -RedirectStandardOutput "$Work/rtm.out"
}
function Start-Lsyncd([string] $Src, [string] $Dst, [int] $Delay = 0) {
    $conf = "$Work/lsyncd-$Delay.lua"
    @"
settings { nodaemon = true, logfile = "$Work/lsyncd.log", statusFile = "$Work/lsyncd.status", insist = true }
sync {
    default.rsyncssh, source = "$Src", host = "$Remote", targetdir = "$Dst", delay = $Delay,
    rsync = { archive = true, compress = false, whole_file = false },
    ssh = { port = $env:RTM_SSH_PORT, identityFile = "$env:RTM_SSH_KEY",
            options = { UserKnownHostsFile = "$env:RTM_SSH_KNOWN_HOSTS", StrictHostKeyChecking = "yes", BatchMode = "yes" } },
}
"@ | Set-Content $conf
    Start-Process lsyncd -ArgumentList $conf -PassThru -RedirectStandardError "$Work/lsyncd.err" -RedirectStandardOutput "$Work/lsyncd.out"
}
function Start-InotifyRsync([string] $Src, [string] $Dst) {
    # The classic script: one rsync per event, path built into the command line.
    $sh = "$Work/inotify-rsync.sh"
    @"
#!/bin/bash
cd '$Src'
inotifywait -q -m -r -e close_write,create,delete,move --format '%w%f' . | while read -r f; do
  rsync -a --relative -e "$SshCmd" "`$f" '${Remote}:$Dst/' 2>/dev/null || true
done
"@ | Set-Content $sh
    Start-Process bash -ArgumentList $sh -PassThru -RedirectStandardError "$Work/inotify.err" -RedirectStandardOutput "$Work/inotify.out"
}
function Stop-Contender($Process) {
    if (-not $Process) { return }
    # Kill the whole process group of children (inotifywait, rsync, ssh) too.
    bash -c "pkill -TERM -P $($Process.Id) 2>/dev/null; kill $($Process.Id) 2>/dev/null; sleep 0.3; pkill -KILL -P $($Process.Id) 2>/dev/null; kill -9 $($Process.Id) 2>/dev/null" | Out-Null
    Get-Process inotifywait, lsyncd -ErrorAction SilentlyContinue | Stop-Process -Force -ErrorAction SilentlyContinue
}
function Wait-File([string] $Path, [string] $Content, [int] $TimeoutMs = 60000) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    while ($sw.ElapsedMilliseconds -lt $TimeoutMs) {
        try { if ([IO.File]::Exists($Path) -and [IO.File]::ReadAllText($Path) -ceq $Content) { return $true } } catch { }
        [Threading.Thread]::Sleep(1)
    }
    $false
}
function Start-Contender([string] $Name, [string] $Src, [string] $Dst, [int] $Delay = 0) {
    New-Dirs $Src, $Dst
    $p = switch -Regex ($Name) {
        '^RealtimeMirror \((\w+)\)$' { Start-RealtimeMirror $Src $Dst $Matches[1] }
        '^RealtimeMirror$' { Start-RealtimeMirror $Src $Dst }
        '^lsyncd$' { Start-Lsyncd $Src $Dst $Delay }
        '^inotifywait\+rsync$' { Start-InotifyRsync $Src $Dst }
    }
    # Ready when a marker written now arrives (start-up scans and initial syncs are over).
    Start-Sleep -Milliseconds 500
    [IO.File]::WriteAllText("$Src/.ready", 'ready')
    if (-not (Wait-File "$Dst/.ready" 'ready' 120000)) { Stop-Contender $p; throw "$Name did not start mirroring (see $Work/*.err)." }
    $p
}
function Format-Range([double[]] $Values, [string] $Format = 'N2') { "{0:$Format}-{1:$Format}" -f ($Values | Measure-Object -Minimum).Minimum, ($Values | Measure-Object -Maximum).Maximum }
function Get-Percentile([double[]] $Values, [double] $P) {
    $s = @($Values | Sort-Object)
    $s[[Math]::Min($s.Count - 1, [int][Math]::Ceiling($P / 100 * $s.Count) - 1)]
}
# The lower median for an even count, as for an odd one the middle value.
function Get-Median([double[]] $Values) { Get-Percentile $Values 50 }

# ---- latency ------------------------------------------------------------------------------------------------------
$FanotifyWhy = [RealtimeMirror.Engine.Watching.WatcherFactory]::FanotifyUnavailable([string[]] @($Work))
if ($FanotifyWhy -and 'Fanotify' -in $Backends) { Write-Warning "Fanotify left out: $FanotifyWhy"; $Backends = @($Backends | Where-Object { $_ -ne 'Fanotify' }) }
if ('latency' -in $Only) {
    foreach ($c in @($Backends | ForEach-Object { "RealtimeMirror ($($_.ToLowerInvariant()))" }) + 'lsyncd', 'inotifywait+rsync') {
        $tag = ($c -replace '\W', '')
        $src = "$Work/lat-$tag-src"; $dst = "$Work/lat-$tag-dst"
        $p = Start-Contender $c $src $dst
        $times = [Collections.Generic.List[double]]::new()
        $lost = 0
        try {
            for ($i = 0; $i -lt $LatencyWrites; $i++) {
                $content = "write $i $([guid]::NewGuid())"
                [IO.File]::WriteAllText("$src/f$i.txt", $content)
                $sw = [Diagnostics.Stopwatch]::StartNew()
                if (Wait-File "$dst/f$i.txt" $content 30000) { $times.Add($sw.Elapsed.TotalMilliseconds) } else { $lost++ }
            }
        }
        finally { Stop-Contender $p }
        Add-Row 'latency p50' $c ([Math]::Round((Get-Percentile $times 50), 1)) 'ms'
        Add-Row 'latency p99' $c ([Math]::Round((Get-Percentile $times 99), 1)) 'ms' $(if ($lost) { "$lost of $LatencyWrites never arrived" })
    }
}

# ---- burst --------------------------------------------------------------------------------------------------------
function New-Burst([string] $Root, [string] $Sub = 'burst', [int] $Files = $BurstFiles) {
    $data = [byte[]]::new(4096)
    $dirs = [Math]::Min($BurstDirs, $Files)
    for ($d = 0; $d -lt $dirs; $d++) {
        $dir = [IO.Directory]::CreateDirectory("$Root/$Sub/d$d").FullName
        for ($f = 0; $f -lt $Files / $dirs; $f++) { $data[0] = $f % 256; $data[1] = $d % 256; [IO.File]::WriteAllBytes("$dir/f$f", $data) }
    }
}
function Wait-Count([string] $Root, [int] $Count, [int] $TimeoutS = 900, [string] $Sub = 'burst') {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    while ($sw.Elapsed.TotalSeconds -lt $TimeoutS) {
        if ([IO.Directory]::Exists("$Root/$Sub")) {
            $n = @([IO.Directory]::EnumerateFiles("$Root/$Sub", '*', 'AllDirectories') | Where-Object { -not ([IO.Path]::GetFileName($_)).StartsWith('.') }).Count
            if ($n -ge $Count) { return $sw.Elapsed.TotalSeconds }
        }
        Start-Sleep -Milliseconds 100
    }
    -1
}
if ('burst' -in $Only) {
    $contenders = @(@('RealtimeMirror', 0), @('lsyncd', 0), @('lsyncd', 15), @('rsync', 0))
    $times = @{}; $writes = @{}
    for ($rep = 0; $rep -lt $Repeat; $rep++) {
        foreach ($c in $contenders) {
            $name, $delay = $c
            $label = if ($name -eq 'lsyncd') { "lsyncd (delay $delay s)" } elseif ($name -eq 'rsync') { 'rsync -a (one run)' } else { $name }
            if (-not $times[$label]) { $times[$label] = [Collections.Generic.List[double]]::new(); $writes[$label] = [Collections.Generic.List[double]]::new() }
            $src = "$Work/burst-$name-$delay-$rep-src"; $dst = "$Work/burst-$name-$delay-$rep-dst"
            if ($name -eq 'rsync') {
                New-Dirs $src; New-Burst $src
                $sw = [Diagnostics.Stopwatch]::StartNew()
                rsync -a -e $SshCmd "$src/" "${Remote}:$dst/"
                $times[$label].Add($sw.Elapsed.TotalSeconds)
            }
            else {
                $p = Start-Contender $name $src $dst $delay
                try {
                    if ($BurstWarmup -gt 0) {
                        New-Burst $src 'warmup' $BurstWarmup
                        if ((Wait-Count $dst $BurstWarmup -Sub 'warmup') -lt 0) { throw "$label did not mirror the warm-up burst." }
                    }
                    $sw = [Diagnostics.Stopwatch]::StartNew()
                    New-Burst $src
                    $writes[$label].Add($sw.Elapsed.TotalSeconds)
                    $t = Wait-Count $dst $BurstFiles
                    $times[$label].Add($(if ($t -ge 0) { $sw.Elapsed.TotalSeconds } else { [double]::NaN }))
                }
                finally { Stop-Contender $p }
            }
            Remove-Item $src, $dst -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
    foreach ($label in $times.Keys | Sort-Object { if ($_ -like 'Realtime*') { 0 } elseif ($_ -like 'lsyncd*') { 1 } else { 2 } }, { $_ }) {
        $note = "range $(Format-Range $times[$label]) s"
        if ($writes[$label].Count) { $note += ", files written in $(Format-Range $writes[$label]) s" } else { $note += ', the practical limit' }
        Add-Row "burst $BurstFiles x 4 KiB$(if ($BurstWarmup) { ', warm' })" $label ([Math]::Round((Get-Median $times[$label]), 2)) 's' $note
    }
}

# ---- big file -----------------------------------------------------------------------------------------------------
if ('bigfile' -in $Only) {
    $bigRoot = "$Work/big"; New-Dirs $bigRoot
    if (-not $BigFileOnDisk) {
        # Source, three replicas and the receivers' temp copies: 5 files of -BigFileBytes at most, plus room.
        mount -t tmpfs -o "size=$([long]($BigFileBytes * 6 + 256MB))" rtm-bench-big $bigRoot
        if ($LASTEXITCODE) { throw "Cannot mount a tmpfs at $bigRoot (run as root, or pass -BigFileOnDisk)." }
    }
    $src = "$bigRoot/src"; $dstR = "$bigRoot/dst-rtm"; $dstS = "$bigRoot/dst-rsync"
    New-Dirs $src, $dstR, $dstS
    $big = "$src/big.bin"
    $rng = [Security.Cryptography.RandomNumberGenerator]::Create()
    $buf = [byte[]]::new(8MB)
    $fs = [IO.File]::Create($big)
    for ($n = 0L; $n -lt $BigFileBytes; $n += $buf.Length) { $rng.GetBytes($buf); $fs.Write($buf, 0, [int][Math]::Min($buf.Length, $BigFileBytes - $n)) }
    $fs.Dispose()
    Register-MirrorTarget -Name bigrtm -HostName $env:RTM_SSH_HOST -Port $env:RTM_SSH_PORT -User $env:RTM_SSH_USER -KeyFile $env:RTM_SSH_KEY `
        -KnownHostsFile $env:RTM_SSH_KNOWN_HOSTS -RemotePath $dstR -Force | Out-Null
    $steps = [ordered]@{
        'initial copy'          = { }
        'touch'                 = { (Get-Item $big).LastWriteTimeUtc = [datetime]::UtcNow.AddMinutes(-5) }
        'append 1 MiB'          = { $f = [IO.File]::Open($big, 'Append'); $b = [byte[]]::new(1MB); $rng.GetBytes($b); $f.Write($b, 0, $b.Length); $f.Dispose() }
        'insert 1 KiB in middle' = {
            $tmp = "$big.new"; $in = [IO.File]::OpenRead($big); $out = [IO.File]::Create($tmp)
            $half = [long]($in.Length / 2); $b = [byte[]]::new(8MB); $left = $half
            while ($left -gt 0) { $r = $in.Read($b, 0, [int][Math]::Min($b.Length, $left)); $out.Write($b, 0, $r); $left -= $r }
            $ins = [byte[]]::new(1KB); $rng.GetBytes($ins); $out.Write($ins, 0, $ins.Length)
            while (($r = $in.Read($b, 0, $b.Length)) -gt 0) { $out.Write($b, 0, $r) }
            $in.Dispose(); $out.Dispose(); Move-Item $tmp $big -Force
        }
    }
    $dstS27 = "$bigRoot/dst-rsync27"; New-Dirs $dstS27
    $contenders = [ordered]@{
        'RealtimeMirror'           = { Sync-MirrorTree -Path $src -Target bigrtm }
        'rsync -a'                 = { rsync -a -e $SshCmd "$src/" "${Remote}:$dstS/"; $null }
        'rsync -a --protocol=27'   = { rsync -a --protocol=27 -e $SshCmd "$src/" "${Remote}:$dstS27/"; $null }
    }
    foreach ($step in $steps.Keys) {
        if ($step -eq 'touch') {
            for ($w = 0; $w -lt $BigFileWarmup; $w++) { & $steps['touch']; foreach ($name in $contenders.Keys) { sync; & $contenders[$name] | Out-Null } }
        }
        $wire = @{}; $secs = @{}; $literal = 0; $via = ''
        $reps = if ($step -eq 'initial copy') { 1 } else { $Repeat }
        for ($rep = 0; $rep -lt $reps; $rep++) {
            & $steps[$step]
            $order = @($contenders.Keys); if ($rep % 2) { [array]::Reverse($order) }   # neither side always gets the warm cache
            foreach ($name in $order) {
                # Each contender's receiver writes a new 1 GiB file: flush what the step and the previous contender left
                # dirty first, or whoever runs next pays for their writeback (seen: the same rsync -a taking 2 s or 5 s).
                sync
                $before = Get-LoopbackBytes; $sw = [Diagnostics.Stopwatch]::StartNew()
                $res = & $contenders[$name]
                $t = $sw.Elapsed.TotalSeconds; $bytes = (Get-LoopbackBytes) - $before
                if (-not $wire[$name]) { $wire[$name] = [Collections.Generic.List[double]]::new(); $secs[$name] = [Collections.Generic.List[double]]::new() }
                $wire[$name].Add($bytes / 1MB); $secs[$name].Add($t)
                if ($res) { $literal = ($res | Measure-Object LiteralBytes -Sum).Sum; $via = ($res.Transport | Select-Object -Unique) -join ',' }
            }
        }
        foreach ($name in $contenders.Keys) {
            $note = "{0:N2} s (range {1} s)" -f (Get-Median $secs[$name]), (Format-Range $secs[$name])
            if ($name -eq 'RealtimeMirror') { $note += ", literal data {0:N0} B, via {1}" -f $literal, $via }
            Add-Row "big file: $step$(if ($BigFileOnDisk) { '' } else { ' (tmpfs)' })" $name ([Math]::Round((Get-Median $wire[$name]), 3)) 'MiB on wire' $note
        }
        if ((Get-FileHash $big).Hash -ne (Get-FileHash "$dstR/big.bin").Hash) { Write-Warning "RealtimeMirror replica differs after '$step'." }
    }
    if (-not $BigFileOnDisk) { umount $bigRoot }
}

# ---- compress -------------------------------------------------------------------------------------------------------
# A tree of log-like text (what -Compress is for: rsync -z in the classic script), sent whole to an empty replica.
if ('compress' -in $Only) {
    $src = "$Work/compress-src"
    New-Dirs "$src/a", "$src/b"
    $rand = [Random]::new(7)
    $words = 'GET', 'POST', '/index.html', '/api/v1/items', '200', '404', 'user=alice', 'user=bob', 'latency_ms=', 'session', 'cache=hit', 'cache=miss'
    for ($i = 0; $i -lt $CompressFiles; $i++) {
        $sb = [Text.StringBuilder]::new()
        while ($sb.Length -lt $CompressFileBytes) {
            [void]$sb.Append("2026-11-$('{0:D2}' -f (1 + $i % 28))T10:$('{0:D2}' -f ($sb.Length % 60)):00Z ")
            for ($w = 0; $w -lt 6; $w++) { [void]$sb.Append($words[$rand.Next($words.Count)]).Append($rand.Next(1000)).Append(' ') }
            [void]$sb.Append("`n")
        }
        [IO.File]::WriteAllText("$src/$(if ($i % 2) { 'a' } else { 'b' })/log$i.txt", $sb.ToString())
    }
    $treeMiB = ((Get-ChildItem $src -Recurse -File | Measure-Object Length -Sum).Sum / 1MB)
    $dstR = "$Work/compress-dst-rtm"; $dstZ = "$Work/compress-dst-rsync-z"; $dstA = "$Work/compress-dst-rsync"
    Register-MirrorTarget -Name comprtm -HostName $env:RTM_SSH_HOST -Port $env:RTM_SSH_PORT -User $env:RTM_SSH_USER -KeyFile $env:RTM_SSH_KEY `
        -KnownHostsFile $env:RTM_SSH_KNOWN_HOSTS -RemotePath $dstR -Compress -Force | Out-Null
    $contenders = [ordered]@{
        'RealtimeMirror -Compress' = @($dstR, { Sync-MirrorTree -Path $src -Target comprtm | Out-Null })
        'rsync -az'                = @($dstZ, { rsync -az -e $SshCmd "$src/" "${Remote}:$dstZ/" })
        'rsync -a'                 = @($dstA, { rsync -a -e $SshCmd "$src/" "${Remote}:$dstA/" })
    }
    $wire = @{}; $secs = @{}
    for ($rep = 0; $rep -lt $Repeat; $rep++) {
        $order = @($contenders.Keys); if ($rep % 2) { [array]::Reverse($order) }
        foreach ($name in $order) {
            $dst = $contenders[$name][0]
            Remove-Item $dst -Recurse -Force -ErrorAction SilentlyContinue; New-Dirs $dst  # an empty replica each time
            $before = Get-LoopbackBytes; $sw = [Diagnostics.Stopwatch]::StartNew()
            & $contenders[$name][1]
            $t = $sw.Elapsed.TotalSeconds; $bytes = (Get-LoopbackBytes) - $before
            if (-not $wire[$name]) { $wire[$name] = [Collections.Generic.List[double]]::new(); $secs[$name] = [Collections.Generic.List[double]]::new() }
            $wire[$name].Add($bytes / 1MB); $secs[$name].Add($t)
        }
    }
    foreach ($name in $contenders.Keys) {
        $note = "{0:N2} s (range {1} s), tree {2:N1} MiB" -f (Get-Median $secs[$name]), (Format-Range $secs[$name]), $treeMiB
        Add-Row "compressible text tree ($CompressFiles files)" $name ([Math]::Round((Get-Median $wire[$name]), 3)) 'MiB on wire' $note
    }
    $sig = { param($Dir) Get-ChildItem $Dir -Recurse -File | ForEach-Object { "$($_.FullName.Substring($Dir.Length)) $((Get-FileHash $_.FullName).Hash)" } | Sort-Object }
    if (Compare-Object @(& $sig $src) @(& $sig $dstR)) { Write-Warning 'RealtimeMirror replica differs after the compress step.' }
}

# ---- idle ---------------------------------------------------------------------------------------------------------
# A process and all its descendants: the pwsh dotnet-tool launcher runs the real runtime as a child process.
function Get-TreePids([int] $Root) {
    $parents = @{}
    foreach ($d in Get-ChildItem /proc -Directory | Where-Object Name -match '^\d+$') {
        try { $f = (Get-Content "$($d.FullName)/stat" -ErrorAction Stop) -replace '^.*\) ', '' -split ' '; $parents[[int]$d.Name] = [int]$f[1] } catch { }
    }
    $tree = [Collections.Generic.List[int]]::new(); $tree.Add($Root)
    for ($i = 0; $i -lt $tree.Count; $i++) { foreach ($kv in $parents.GetEnumerator()) { if ($kv.Value -eq $tree[$i]) { $tree.Add($kv.Key) } } }
    $tree
}
function Get-TreeTicks([int[]] $Pids) {
    $sum = 0L
    foreach ($id in $Pids) { try { $f = (Get-Content "/proc/$id/stat" -ErrorAction Stop) -replace '^.*\) ', '' -split ' '; $sum += [long]$f[11] + [long]$f[12] } catch { } }
    $sum
}
function Measure-Idle([string] $Label, $Process) {
    Start-Sleep -Seconds $IdleWarmup
    $pids = @(Get-TreePids $Process.Id)
    $t0 = Get-TreeTicks $pids
    Start-Sleep -Seconds $IdleSeconds
    $cpu = ((Get-TreeTicks $pids) - $t0) / 100.0
    $rss = 0L
    foreach ($id in $pids) { try { $rss += [long]((Get-Content "/proc/$id/status" -ErrorAction Stop | Where-Object { $_ -like 'VmRSS*' }) -replace '\D', '') } catch { } }
    Add-Row "idle: $IdleDirs dirs, $IdleSeconds s" $Label ([Math]::Round(100 * $cpu / $IdleSeconds, 2)) '% CPU' ("{0:N0} MiB RSS, {1} process(es)" -f ($rss / 1024), $pids.Count)
}
if ('idle' -in $Only) {
    $tree = "$Work/idle-src"
    $perTop = [int][Math]::Ceiling($IdleDirs / 100)
    for ($a = 0; $a -lt 100; $a++) { for ($b = 0; $b -lt $perTop -and $a * $perTop + $b -lt $IdleDirs; $b++) { [IO.Directory]::CreateDirectory("$tree/a$a/b$b") | Out-Null } }
    # Both mirror the same tree to the loopback sshd, as services: watch + initial sync, then nothing changes.
    New-Dirs "$Work/idle-dst-rtm", "$Work/idle-dst-lsyncd"
    $p = Start-RealtimeMirror $tree "$Work/idle-dst-rtm"
    try { Measure-Idle 'RealtimeMirror (service)' $p } finally { Stop-Contender $p }
    $p = Start-Lsyncd $tree "$Work/idle-dst-lsyncd" 0
    try { Measure-Idle 'lsyncd' $p } finally { Stop-Contender $p }
    # What the host process costs on its own, for scale: pwsh with nothing loaded.
    $p = Start-Process (Get-Command pwsh).Source -ArgumentList '-NoProfile', '-Command', 'while ($true) { Start-Sleep 1 }' -PassThru
    try { Measure-Idle 'pwsh alone (baseline)' $p } finally { Stop-Contender $p }
    $p = Start-Process inotifywait -ArgumentList '-q', '-m', '-r', $tree -PassThru -RedirectStandardOutput "$Work/inotifywait.out"
    try { Measure-Idle 'inotifywait -m -r' $p } finally { Stop-Contender $p }
}

# ---- scale --------------------------------------------------------------------------------------------------------
# Each backend in a fresh pwsh that only watches (no target): how long Start-MirrorWatch takes to cover the tree,
# what the process grows by, the kernel objects it holds (inotify watches, fanotify marks: /proc/self/fdinfo) and its
# CPU while nothing changes in the tree (fanotify filters the whole filesystem's events in user space: other
# activity on it counts here). lsyncd: until its inotify watches cover the tree.
function Get-KernelWatches([string] $ProcDir) {
    $n = 0
    foreach ($f in Get-ChildItem "$ProcDir/fdinfo" -ErrorAction SilentlyContinue) {
        try { foreach ($l in [IO.File]::ReadLines($f.FullName)) { if ($l.StartsWith('inotify wd:') -or ($l.StartsWith('fanotify ') -and -not $l.StartsWith('fanotify flags'))) { $n++ } } } catch { }
    }
    $n
}
# $Dirs directories in all, the root included: 200 top directories and the rest spread below them.
function New-ScaleTree([string] $Root, [int] $Dirs) {
    $below = $Dirs - 201
    $perTop = [int][Math]::Ceiling($below / 200)
    for ($a = 0; $a -lt 200; $a++) {
        [IO.Directory]::CreateDirectory("$Root/a$a") | Out-Null
        for ($b = 0; $b -lt $perTop -and $a * $perTop + $b -lt $below; $b++) { [IO.Directory]::CreateDirectory("$Root/a$a/b$b") | Out-Null }
    }
}
if ('scale' -in $Only) {
    # The limit is per user across all its processes (other inotify users on this machine count): leave ample room.
    $need = ($ScaleDirs | Measure-Object -Maximum).Maximum * 4 + 1000000
    if ([int](Get-Content /proc/sys/fs/inotify/max_user_watches) -lt $need) { try { Set-Content /proc/sys/fs/inotify/max_user_watches $need } catch { Write-Warning "inotify max_user_watches too low for $need" } }
    foreach ($dirs in $ScaleDirs) {
        $tree = "$Work/scale-$dirs"
        New-ScaleTree $tree $dirs
        $label = "watch $('{0:N0}' -f $dirs) dirs"
        foreach ($b in $Backends) {
            $child = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$Repo/RealtimeMirror.psd1'
function Rss { [long]((Get-Content /proc/self/status | Where-Object { `$_ -like 'VmRSS*' }) -replace '\D', '') }
function Ticks { `$f = (Get-Content /proc/self/stat) -replace '^.*\) ', '' -split ' '; [long]`$f[11] + [long]`$f[12] }
# Warm: the module's code is compiled on a small tree first, so the tree's own cost is what is measured.
New-Item -ItemType Directory '$Work/scale-warm/x' -Force | Out-Null
Start-MirrorWatch '$Work/scale-warm' -Backend $b | Stop-MirrorWatch
[GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
`$rss0 = Rss; `$heap0 = [GC]::GetTotalMemory(`$true)
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$w = Start-MirrorWatch '$tree' -Backend $b
`$ms = `$sw.Elapsed.TotalMilliseconds
`$heap1 = [GC]::GetTotalMemory(`$true); `$rss1 = Rss
`$kernel = 0
foreach (`$f in Get-ChildItem /proc/self/fdinfo) { try { foreach (`$l in [IO.File]::ReadLines(`$f.FullName)) { if (`$l.StartsWith('inotify wd:') -or (`$l.StartsWith('fanotify ') -and -not `$l.StartsWith('fanotify flags'))) { `$kernel++ } } } catch { } }
# A moment for the runtime's background JIT and GC after the start-up, then the idle CPU.
Start-Sleep -Seconds 5
`$t0 = Ticks; Start-Sleep -Seconds $ScaleIdleSeconds; `$cpu = (Ticks) - `$t0
`$fault = if (`$w.LastError) { ' ' + (`$w.LastError -replace '\s+', ' ') + " (overflows: `$(`$w.Overflows))" } else { '' }
"SCALE `$ms `$(`$rss1 - `$rss0) `$(`$heap1 - `$heap0) `$kernel `$cpu `$(`$w.Backend)`$fault"
`$w | Stop-MirrorWatch
"@
            $out = & (Get-Command pwsh).Source -NoProfile -Command $child 2>&1
            $line = @($out | Where-Object { "$_" -like 'SCALE *' })[0]
            if (-not $line) { Write-Warning "scale $b $dirs failed: $($out -join "`n")"; continue }
            $f = "$line" -split ' '
            if ($f[6] -ne $b) { Write-Warning "scale: asked $b, got $($f[6])" }
            Add-Row "${label}: start-up" "RealtimeMirror ($($b.ToLowerInvariant()))" ([Math]::Round([double]$f[1] / 1000, 2)) 's' `
                ("+{0:N0} MiB RSS (+{1:N0} MiB managed), {2:N0} kernel watches/marks, idle {3:N2} % CPU over {4} s{5}" -f ([long]$f[2] / 1024), ([long]$f[3] / 1MB), [long]$f[4], ([double]$f[5] / $ScaleIdleSeconds), $ScaleIdleSeconds, $(if ($f.Count -gt 7) { '; the watch said: ' + ($f[7..($f.Count - 1)] -join ' ') } else { '' }))
        }
        # lsyncd's default.rsync to a local directory; timed until its inotify watches cover every directory.
        New-Dirs "$Work/scale-lsyncd-dst"
        $conf = "$Work/lsyncd-scale.lua"
        "settings { nodaemon = true, logfile = `"$Work/lsyncd-scale.log`", insist = true }`nsync { default.rsync, source = `"$tree`", target = `"$Work/scale-lsyncd-dst`", delay = 15 }" | Set-Content $conf
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $p = Start-Process lsyncd -ArgumentList $conf -PassThru -RedirectStandardError "$Work/lsyncd-scale.err" -RedirectStandardOutput "$Work/lsyncd-scale.out"
        try {
            $watches = 0
            while ($sw.Elapsed.TotalSeconds -lt 300 -and -not $p.HasExited -and ($watches = Get-KernelWatches "/proc/$($p.Id)") -lt $dirs) { Start-Sleep -Milliseconds 50 }
            $secs = $sw.Elapsed.TotalSeconds
            if ($p.HasExited) {
                # lsyncd gives up when inotify refuses a watch (max_user_watches): a row that says so, with its last words.
                $why = @(Get-Content "$Work/lsyncd-scale.log", "$Work/lsyncd-scale.err" -ErrorAction SilentlyContinue | Where-Object { $_ }) | Select-Object -Last 1
                Add-Row "${label}: start-up" 'lsyncd' '-' '' ("exited after {0:N1} s with {1:N0} watches set: {2}" -f $secs, $watches, $why)
                continue
            }
            $rss = [long]((Get-Content "/proc/$($p.Id)/status" | Where-Object { $_ -like 'VmRSS*' }) -replace '\D', '')
            # Its initial rsync runs in a child; lsyncd's own CPU while nothing changes:
            Start-Sleep -Seconds 5
            $t = { $f = (Get-Content "/proc/$($p.Id)/stat") -replace '^.*\) ', '' -split ' '; [long]$f[11] + [long]$f[12] }
            $t0 = & $t; Start-Sleep -Seconds $ScaleIdleSeconds; $cpu = (& $t) - $t0
            Add-Row "${label}: start-up" 'lsyncd' ([Math]::Round($secs, 2)) 's' ("{0:N0} MiB RSS, {1:N0} kernel watches, idle {2:N2} % CPU over {3} s" -f ($rss / 1024), $watches, ($cpu / $ScaleIdleSeconds), $ScaleIdleSeconds)
        }
        finally { Stop-Contender $p; Remove-Item "$Work/scale-lsyncd-dst" -Recurse -Force -ErrorAction SilentlyContinue }
    }
}

# ---- report -------------------------------------------------------------------------------------------------------
$md = [Text.StringBuilder]::new()
[void]$md.AppendLine("| Measure | Contender | Value | Unit | Note |")
[void]$md.AppendLine("| --- | --- | ---: | --- | --- |")
foreach ($r in $rows) {
    $base = $rows | Where-Object { $_.Measure -eq $r.Measure -and $_.Contender -like 'RealtimeMirror*' } | Select-Object -First 1
    $ratio = if ($base -and $r -ne $base -and [double]$base.Value -gt 0) { " ({0:N1}x RealtimeMirror)" -f ([double]$r.Value / [double]$base.Value) } else { '' }
    [void]$md.AppendLine("| $($r.Measure) | $($r.Contender) | $($r.Value) | $($r.Unit)$ratio | $($r.Note) |")
}
New-Item -ItemType Directory "$PSScriptRoot/results" -Force | Out-Null
$memGiB = [Math]::Round([long]((Get-Content /proc/meminfo -First 1) -replace '\D', '') / 1MB, 1)
$rsyncVersion = (rsync --version)[0] -replace '^rsync\s+version\s+(\S+).*', '$1'
$lsyncdVersion = (lsyncd --version) -replace '\D*([\d.]+).*', '$1'
$header = "Run $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC on $(nproc) cores, $memGiB GiB; rsync $rsyncVersion, lsyncd $lsyncdVersion."
"$header`n`n$md" | Set-Content "$PSScriptRoot/results/latest.md"
Write-Host "`n$header`n"
Write-Host $md.ToString()

# The trees are big (a 1 GiB file, 20,000 directories): nothing of this run stays behind.
if (Test-Path "$Work/big") { umount "$Work/big" 2>$null }
Remove-Item $Work -Recurse -Force -ErrorAction SilentlyContinue
