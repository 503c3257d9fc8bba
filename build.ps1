#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, documents, packages and benchmarks RealtimeMirror.
.DESCRIPTION
    Build   : compiles the module into a fresh ./bin (the cmdlet assembly; the engine and its libraries in bin/deps),
              so `Import-Module ./RealtimeMirror.psd1` works from the repo root.
    Test    : Build, then the xunit engine tests and the Pester end-to-end tests (against a loopback sshd and
              the real rsync); ends with one line "N passed, N failed".
    Docs    : turns docs/*.md (PlatyPS schema) into en-US/RealtimeMirror.dll-Help.xml (MAML), with PlatyPS when
              it is installed, else with the converter in tests/tools/DocsToMaml.ps1.
    Package : Build + Docs, then a self-contained module folder in ./out/RealtimeMirror.
    Bench   : Build, then tests/bench/Run-Bench.ps1 (RealtimeMirror vs lsyncd vs rsync). Not part of Test.
    Fuzz    : Build, then the differential fuzzer (tests/fuzz) for -Seeds (default 1,2,3) x -Operations (default 300)
              against local, rsync and SFTP replicas; exit 1 if any replica did not converge.
    Soak    : the long engine tests ([SoakFact]: a 5 GiB sparse file through rsync), then Fuzz with many seeds
              (default 20) x 10,000 operations, each killing the service (SIGKILL) and restarting the fuzzer's sshd mid-churn.
    Run from Windows PowerShell or without pwsh: it installs the PowerShell dotnet tool and re-runs itself there.
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Docs', 'Package', 'Bench', 'Fuzz', 'Soak')]
    [string] $Task = 'Build',
    [string] $Configuration = 'Release',
    # Pester/xunit filter: run only tests whose name matches.
    [string] $Filter,
    # Fuzz/Soak: seeds to run and operations per seed (defaults: Fuzz 1,2,3 x 300; Soak 1001..1020 x 10000).
    [int[]] $Seeds,
    [int] $Operations
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = $PSScriptRoot

if ($PSVersionTable.PSVersion.Major -lt 7 -or ($PSVersionTable.PSVersion.Major -eq 7 -and $PSVersionTable.PSVersion.Minor -lt 4)) {
    Write-Host 'pwsh 7.4+ is needed: installing the PowerShell dotnet tool and running again there.'
    dotnet tool update --global PowerShell --version 7.6.9 | Out-Host
    $pwsh = Join-Path ([Environment]::GetFolderPath('UserProfile')) '.dotnet/tools/pwsh'
    & $pwsh -NoProfile -File $PSCommandPath @PSBoundParameters
    exit $LASTEXITCODE
}

function Invoke-Native([string] $What, [scriptblock] $Command) {
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit $LASTEXITCODE)." }
}

# What stays in bin/ itself: the cmdlet assembly (default load context) and the files the manifest names. Everything
# else the publish brings (the engine and its libraries: SSH.NET, BouncyCastle, Newtonsoft.Json, ...) goes to bin/deps,
# where only the module's own AssemblyLoadContext (src/RealtimeMirror/EngineLoadContext.cs) looks for it.
$ModuleFiles = @('RealtimeMirror.dll', 'RealtimeMirror.pdb', 'RealtimeMirror.Format.ps1xml', 'RealtimeMirror.Types.ps1xml', 'systemd')

function Invoke-Build {
    # Published into a staging folder, then laid out in a fresh bin/, so a library dropped from the project (or one
    # left from the old flat layout) never ships or loads.
    $stage = Join-Path $Root "src/RealtimeMirror/obj/publish-$Configuration"
    Remove-Item $stage -Recurse -Force -ErrorAction SilentlyContinue
    Invoke-Native 'dotnet publish' { dotnet publish "$Root/src/RealtimeMirror/RealtimeMirror.csproj" -c $Configuration -o $stage --nologo -v quiet }
    $bin = Join-Path $Root 'bin'
    Remove-Item $bin -Recurse -Force -ErrorAction SilentlyContinue
    $deps = New-Item -ItemType Directory (Join-Path $bin 'deps') -Force
    foreach ($item in Get-ChildItem $stage) {
        # PowerShell itself provides System.Management.Automation; the deps file describes an app, not a module.
        if ($item.Name -in 'System.Management.Automation.dll', 'RealtimeMirror.deps.json') { continue }
        $dest = if ($item.Name -in $ModuleFiles) { $bin } else { $deps.FullName }
        Move-Item $item.FullName $dest
    }
    Write-Host "Built: Import-Module $Root/RealtimeMirror.psd1"
}

# The pwsh running us: as a dotnet tool the process itself is 'dotnet', so look for the launcher instead.
function Get-PwshPath {
    $onPath = Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($onPath) { return $onPath.Source }
    Join-Path ([Environment]::GetFolderPath('UserProfile')) '.dotnet/tools/pwsh'
}

function Get-PesterModulePath {
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $psd1 = Get-ChildItem "$packages/pester/*/tools/Pester.psd1" -ErrorAction SilentlyContinue | Sort-Object FullName -Descending | Select-Object -First 1
    if (-not $psd1) {
        Write-Host 'Fetching Pester from NuGet.'
        Invoke-Native 'dotnet restore (Pester)' { dotnet restore "$Root/tests/tools/PesterTools.csproj" --nologo -v quiet }
        $psd1 = Get-ChildItem "$packages/pester/*/tools/Pester.psd1" | Sort-Object FullName -Descending | Select-Object -First 1
    }
    $psd1.FullName
}

# The engine tests marked [SoakFact] (too long for Test): run with RTM_SOAK=1; exit 1 if any fails.
function Invoke-BigRsync {
    $env:RTM_SOAK = '1'
    try {
        dotnet test "$Root/tests/RealtimeMirror.Engine.Tests/RealtimeMirror.Engine.Tests.csproj" -c $Configuration --nologo `
            --filter 'FullyQualifiedName~A_touched_5_GiB_sparse_file' | Out-Host
        if ($LASTEXITCODE -ne 0) { Write-Host 'Soak: the long engine tests failed.'; exit 1 }
    }
    finally { Remove-Item env:RTM_SOAK }
}

# ---- Differential fuzzer (tests/fuzz) -------------------------------------------------------------------------
function Invoke-FuzzBuild {
    Invoke-Native 'dotnet build (fuzzer)' { dotnet build "$Root/tests/fuzz/RealtimeMirror.Fuzz.csproj" -c $Configuration --nologo -v quiet } | Out-Host
    "$Root/tests/fuzz/bin/$Configuration/net10.0/RealtimeMirror.Fuzz.dll"
}

function Invoke-Fuzz([int[]] $FuzzSeeds, [int] $Ops, [string[]] $Extra = @()) {
    Invoke-Build
    $dll = Invoke-FuzzBuild
    $failed = @()
    foreach ($seed in $FuzzSeeds) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        dotnet $dll --seed $seed --ops $Ops --targets local,rsync,sftp --repo $Root @Extra | Out-Host
        if ($LASTEXITCODE -ne 0) { $failed += $seed }
        Write-Host ("seed {0}: exit {1} in {2:F1} s" -f $seed, $LASTEXITCODE, $sw.Elapsed.TotalSeconds)
    }
    Write-Host "Fuzz: $($FuzzSeeds.Count - $failed.Count) of $($FuzzSeeds.Count) seeds converged$(if ($failed) { "; failing seeds: $($failed -join ', ')" })"
    if ($failed) { exit 1 }
}
# -------------------------------------------------------------------------------------------------------------------

function Invoke-Test {
    Invoke-Build
    Invoke-FuzzBuild | Out-Null  # tests/Fuzz.Tests.ps1 runs it
    $results = Join-Path $Root 'TestResults'
    Remove-Item $results -Recurse -Force -ErrorAction SilentlyContinue
    New-Item -ItemType Directory $results | Out-Null

    # The end-to-end tests and some engine tests talk to a real sshd on loopback: start (or find) the throwaway one.
    if ($IsLinux) {
        $envLines = bash "$Root/tests/sshd/start-test-sshd.sh"
        if ($LASTEXITCODE -ne 0) { throw 'Could not start the test sshd (is openssh-server installed?).' }
        foreach ($line in $envLines) { $k, $v = $line -split '=', 2; if ($k -like 'RTM_*') { Set-Item "env:$k" $v } }
    }

    Write-Host '== xunit: engine =='
    $xunitArgs = @('test', "$Root/tests/RealtimeMirror.Engine.Tests/RealtimeMirror.Engine.Tests.csproj", '-c', $Configuration, '--nologo',
        '--logger', "trx;LogFileName=engine.trx", '--results-directory', $results)
    if ($Filter) { $xunitArgs += @('--filter', "FullyQualifiedName~$Filter") }
    dotnet @xunitArgs | Out-Host
    $xunitExit = $LASTEXITCODE
    $xunitPassed = 0; $xunitFailed = 0
    $trx = Get-ChildItem $results -Filter *.trx -Recurse | Select-Object -First 1
    if ($trx) {
        $counters = ([xml](Get-Content $trx.FullName -Raw)).TestRun.ResultSummary.Counters
        $xunitPassed = [int]$counters.passed; $xunitFailed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout
    }
    elseif ($xunitExit -ne 0) { $xunitFailed = 1 }

    Write-Host '== Pester: cmdlets end to end =='
    $pesterCode = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$(Get-PesterModulePath)' -Force
`$c = New-PesterConfiguration
`$c.Run.Path = '$Root/tests'
`$c.Run.PassThru = `$true
`$c.Output.Verbosity = 'Detailed'
$(if ($Filter) { "`$c.Filter.FullName = '*$Filter*'" })
`$r = Invoke-Pester -Configuration `$c
foreach (`$t in `$r.Failed) { "PESTER_FAILED `$(`$t.ExpandedPath) :: `$(("`$(`$t.ErrorRecord | Select-Object -First 1 | ForEach-Object Exception | ForEach-Object Message)").Trim() -split "``n" | Select-Object -First 3)" }
foreach (`$b in @(`$r.FailedBlocks) + @(`$r.FailedContainers)) { "PESTER_FAILED `$(`$b.ExpandedPath ?? `$b.Item) (setup)" }
"PESTER_COUNTS `$(`$r.PassedCount) `$(`$r.FailedCount + `$r.FailedBlocksCount + `$r.FailedContainersCount)"
"@
    # A child pwsh: the module's assemblies load into a clean session, and a crash there cannot take the build down.
    $pesterOut = & (Get-PwshPath) -NoProfile -Command $pesterCode
    $pesterPassed = 0; $pesterFailed = 1
    $failedNames = [Collections.Generic.List[string]]::new()
    foreach ($line in $pesterOut) {
        if ($line -match '^PESTER_COUNTS (\d+) (\d+)$') { $pesterPassed = [int]$Matches[1]; $pesterFailed = [int]$Matches[2] }
        elseif ($line -match '^PESTER_FAILED (.*)$') { $failedNames.Add("Pester: $($Matches[1])") }
        else { Write-Host $line }
    }
    if ($trx) {
        foreach ($r in ([xml](Get-Content $trx.FullName -Raw)).SelectNodes("//*[local-name()='UnitTestResult']") | Where-Object outcome -notin 'Passed', 'NotExecuted') {
            $failedNames.Add("xunit: $($r.testName)")
        }
    }
    # CI shows only the end of this output: the failures are named again just above the counts.
    foreach ($name in $failedNames) { Write-Host "FAILED $name" }
    $passed = $xunitPassed + $pesterPassed
    $failed = $xunitFailed + $pesterFailed
    Write-Host "xunit: $xunitPassed passed, $xunitFailed failed; Pester: $pesterPassed passed, $pesterFailed failed"
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Docs {
    $out = Join-Path $Root 'en-US'
    New-Item -ItemType Directory $out -Force | Out-Null
    if (Get-Module -ListAvailable platyPS) {
        Import-Module platyPS
        New-ExternalHelp -Path "$Root/docs" -OutputPath $out -Force | Out-Null
    }
    else {
        & "$Root/tests/tools/DocsToMaml.ps1" -DocsPath "$Root/docs" -OutputFile (Join-Path $out 'RealtimeMirror.dll-Help.xml')
    }
    Write-Host "Help written to $out"
}

function Invoke-Package {
    Invoke-Build
    Invoke-Docs
    $dest = Join-Path $Root 'out/RealtimeMirror'
    Remove-Item $dest -Recurse -Force -ErrorAction SilentlyContinue
    New-Item -ItemType Directory $dest | Out-Null
    Copy-Item "$Root/RealtimeMirror.psd1" $dest
    Copy-Item "$Root/LICENSE" $dest
    Copy-Item "$Root/bin" (Join-Path $dest 'bin') -Recurse
    Copy-Item "$Root/en-US" (Join-Path $dest 'en-US') -Recurse
    Get-ChildItem "$dest/bin" -Filter *.pdb -Recurse | Remove-Item
    Write-Host "Package: $dest"
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Docs' { Invoke-Docs }
    'Package' { Invoke-Package }
    'Bench' { Invoke-Build; & "$Root/tests/bench/Run-Bench.ps1" }
    'Fuzz' { Invoke-Fuzz $(if ($Seeds) { $Seeds } else { 1, 2, 3 }) $(if ($Operations) { $Operations } else { 300 }) }
    'Soak' { Invoke-Build; Invoke-BigRsync; Invoke-Fuzz $(if ($Seeds) { $Seeds } else { 1001..1020 }) $(if ($Operations) { $Operations } else { 10000 }) @('--kill', '--restart-sshd', '--settle-timeout', '120', '--sshd-port', '2234') }
}
