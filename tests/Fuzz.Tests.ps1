# The differential fuzzer (tests/fuzz) as a gate: 5 fixed seeds x 300 mixed operations against a local, an rsync and an
# SFTP replica, each must converge exactly (names as bytes, kind, content, mode incl. set-id bits, numeric owner,
# mtime at each transport's precision, symlink targets) and nothing may be written beside the replica roots.
# About two minutes when the engine converges; at most ~5 minutes when it does not (30 s settle timeout per seed).
# A failing seed replays with: dotnet tests/fuzz/bin/Release/net10.0/RealtimeMirror.Fuzz.dll --seed N --ops 300 --keep
BeforeAll {
    $RepoRoot = Split-Path $PSScriptRoot -Parent
    # build.ps1 -Task Test builds it (Release or Debug); take the newest build.
    $script:FuzzDll = Get-ChildItem "$RepoRoot/tests/fuzz/bin/*/net10.0/RealtimeMirror.Fuzz.dll" -ErrorAction SilentlyContinue |
        Sort-Object LastWriteTimeUtc -Descending | Select-Object -First 1 -ExpandProperty FullName
    if (-not $script:FuzzDll) {
        dotnet build "$RepoRoot/tests/fuzz/RealtimeMirror.Fuzz.csproj" -c Release --nologo -v quiet | Out-Host
        $script:FuzzDll = "$RepoRoot/tests/fuzz/bin/Release/net10.0/RealtimeMirror.Fuzz.dll"
    }
    $script:Repo = $RepoRoot
}

Describe 'Differential fuzzer: replicas converge after seeded churn' -Tag Fuzz {
    # Seed 404 runs with a tiny event bound, so backlogs fold into Rescans all the time (SyncHint.ChangedSince); seed 505
    # kills the service mid-churn and starts it again (its sync watermark must catch what changed while it was down).
    It 'seed <Seed>: 300 operations, local + rsync + sftp replicas converge <Note>' -TestCases @(
        @{ Seed = 101; Extra = @(); Note = '' }, @{ Seed = 202; Extra = @(); Note = '' }, @{ Seed = 303; Extra = @(); Note = '' },
        @{ Seed = 404; Extra = @('--max-queued', '100'); Note = '(backlogs folded past 100 events, the least -MaxQueuedEvents takes)' },
        @{ Seed = 505; Extra = @('--kill'); Note = '(service SIGKILLed and restarted mid-churn)' }
    ) {
        param($Seed, $Extra)
        $out = dotnet $script:FuzzDll --seed $Seed --ops 300 --targets local,rsync,sftp --settle-timeout 30 --max-diffs 15 --repo $script:Repo @Extra 2>&1
        $code = $LASTEXITCODE
        if ($code -eq 0) { $out | Where-Object { $_ -like '*timings:*' } | ForEach-Object { Write-Host "    $_" } }
        else { throw "fuzzer seed $Seed exited $code`n$($out -join "`n")" }
    }
}

Describe 'Differential fuzzer: a same-size rewrite, then its directory renamed' -Tag Fuzz {
    # Only the queued hint knows such a file changed, and it names the old path: it must follow the rename (the
    # engine before this class existed left 2-12 files with their old content on every replica, for good).
    It 'seed 707: 20 rewrite-then-rename operations on local + rsync + sftp replicas converge' {
        $out = dotnet $script:FuzzDll --seed 707 --ops 20 --only rewrite-dir-rename --targets local,rsync,sftp --settle-timeout 30 --max-diffs 15 --repo $script:Repo 2>&1
        if ($LASTEXITCODE -ne 0) { throw "fuzzer seed 707 exited $LASTEXITCODE`n$($out -join "`n")" }
    }
}

Describe 'Differential fuzzer: attacks from the backup host' -Tag Fuzz {
    # Hard links from replica names to files beside the replicas, then chmod/chown of the source: the traps must keep
    # their mode, owner, mtime and content, and lose the planted name (the mirror replaces it, never changes it).
    It 'seed 606: 40 replica-hardlink attacks on local + rsync + sftp replicas change no trap' {
        $out = dotnet $script:FuzzDll --seed 606 --ops 40 --only replica-hardlink --targets local,rsync,sftp --settle-timeout 30 --max-diffs 15 --repo $script:Repo 2>&1
        if ($LASTEXITCODE -ne 0) { throw "fuzzer seed 606 exited $LASTEXITCODE`n$($out -join "`n")" }
    }
}
