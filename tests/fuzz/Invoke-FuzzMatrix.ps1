#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Runs the fuzzer once per operation class (--only CLASS) for a few seeds and prints a convergence table:
    one row per class, one column per target; a cell is "ok" or "FAIL n/N" with the kinds of difference seen.
.EXAMPLE
    ./tests/fuzz/Invoke-FuzzMatrix.ps1 -Seeds 1,2 -Operations 40 -ExtraArgs '--precision','local=s'
#>
param(
    [int[]] $Seeds = @(1, 2),
    [int] $Operations = 40,
    [int] $SettleTimeout = 15,
    [string[]] $Classes,
    [string] $Targets = 'local,rsync,sftp',
    [string] $FuzzerDll = "$PSScriptRoot/bin/Release/net10.0/RealtimeMirror.Fuzz.dll",
    [string[]] $ExtraArgs = @(),
    [string] $OutFile
)
$ErrorActionPreference = 'Stop'
$repo = Split-Path (Split-Path $PSScriptRoot -Parent) -Parent
if (-not $Classes) { $Classes = @(dotnet $FuzzerDll --list-classes) }
$targetList = $Targets -split ','
$rows = foreach ($class in $Classes) {
    $cells = [ordered]@{}
    foreach ($t in $targetList) { $cells[$t] = [Collections.Generic.List[string]]::new() }
    foreach ($seed in $Seeds) {
        $out = dotnet $FuzzerDll --seed $seed --ops $Operations --only $class --targets $Targets --settle-timeout $SettleTimeout --repo $repo @ExtraArgs 2>&1
        $result = $out | Where-Object { $_ -like 'RESULT *' } | Select-Object -Last 1
        Write-Host ("{0,-20} seed {1}: {2}" -f $class, $seed, $(if ($result) { $result } else { 'no RESULT line: ' + ($out | Select-Object -Last 3) -join ' | ' }))
        foreach ($t in $targetList) {
            if ($result -match "\b$t=(\S+)") { $cells[$t].Add($Matches[1]) } else { $cells[$t].Add('ERROR') }
        }
        if ($result -match 'outside=FAIL') { $cells[$targetList[0]].Add('OUTSIDE-WRITE') }
    }
    $row = [ordered]@{ Class = $class }
    foreach ($t in $targetList) {
        $fails = @($cells[$t] | Where-Object { $_ -ne 'ok' })
        $row[$t] = if ($fails.Count -eq 0) { 'ok' } else {
            $kinds = ($fails | ForEach-Object { if ($_ -match '^FAIL\(\d+:(.*)\)$') { $Matches[1] -split ',' | ForEach-Object { ($_ -split ':')[0] } } else { $_ } }) | Sort-Object -Unique
            "FAIL $($fails.Count)/$($Seeds.Count) ($($kinds -join ', '))"
        }
    }
    [pscustomobject]$row
}
$md = @("| Class | $($targetList -join ' | ') |", "| --- |$(' --- |' * $targetList.Count)")
$md += $rows | ForEach-Object { $r = $_; "| $($r.Class) | $(($targetList | ForEach-Object { $r.$_ }) -join ' | ') |" }
$md | Out-Host
if ($OutFile) { $md | Set-Content $OutFile }
