# Shared by the *.Tests.ps1 files: a private target file, the loopback sshd, odd trees, and tree comparison.
$ErrorActionPreference = 'Stop'
$RepoRoot = Split-Path $PSScriptRoot -Parent

function Initialize-MirrorTest {
    $script:TestRoot = Join-Path ([IO.Path]::GetTempPath()) ("rtm-pester-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory $script:TestRoot | Out-Null
    # Each test file gets its own target file, so tests never see the admin's real targets.
    $env:REALTIMEMIRROR_CONFIG = Join-Path $script:TestRoot 'targets.json'
    # And its own runtime directory: Get-MirrorWatch | Stop-MirrorWatch then never reaches services outside the test.
    $env:REALTIMEMIRROR_RUNTIME_DIR = Join-Path $script:TestRoot 'run'
    if (-not $env:RTM_SSH_PORT) {
        foreach ($line in (bash "$RepoRoot/tests/sshd/start-test-sshd.sh")) {
            $k, $v = $line -split '=', 2
            if ($k -like 'RTM_*') { Set-Item "env:$k" $v }
        }
    }
    Import-Module "$RepoRoot/RealtimeMirror.psd1" -Force
    $script:TestRoot
}

function Remove-MirrorTest {
    if ($script:TestRoot -and (Test-Path $script:TestRoot)) { Remove-Item $script:TestRoot -Recurse -Force -ErrorAction SilentlyContinue }
}

function Register-TestSshTarget {
    [CmdletBinding()]
    param([string] $Name, [string] $RemotePath, [hashtable] $Extra = @{})
    $params = @{
        Name = $Name; HostName = $env:RTM_SSH_HOST; Port = [int]$env:RTM_SSH_PORT; User = $env:RTM_SSH_USER
        KeyFile = $env:RTM_SSH_KEY; KnownHostsFile = $env:RTM_SSH_KNOWN_HOSTS; RemotePath = $RemotePath
    }
    foreach ($k in $Extra.Keys) { $params[$k] = $Extra[$k] }
    Register-MirrorTarget @params
}

# Runs a fresh pwsh with this module imported and returns the last object the script writes, through JSON. The pwsh dotnet
# tool runs as `dotnet pwsh.dll`, so the child is started the way this process was, not by looking for `pwsh` on PATH.
# -Prefix runs it through a wrapper such as setpriv.
function Invoke-ChildPwsh([string] $Script, [string[]] $Prefix = @()) {
    $exe = [Environment]::ProcessPath
    $launch = if ((Split-Path -Leaf $exe) -like 'dotnet*') { @($exe, (Join-Path $PSHOME 'pwsh.dll')) } else { @($exe) }
    $all = @($Prefix) + $launch + @('-NoProfile', '-NonInteractive', '-Command', "Import-Module '$RepoRoot/RealtimeMirror.psd1'; & {`n$Script`n} | Select-Object -Last 1 | ConvertTo-Json -Depth 4")
    $out = & $all[0] $all[1..($all.Count - 1)]
    if ($LASTEXITCODE) { throw "child pwsh exited with $LASTEXITCODE`: $out" }
    ($out -join "`n") | ConvertFrom-Json
}

# Names that broke the old shell-script mirror: spaces, quotes, newlines, unicode, leading dashes, shell syntax.
$script:OddNames = @(
    'plain.txt', 'with space.txt', "single'quote.txt", 'double"quote.txt', "new`nline.txt", 'unicodé-日本語.txt',
    '-leading-dash.txt', '--rf', '$(echo pwned)', 'semi;colon&amp', 'back\slash', '*star?', ' leading space'
)

function New-OddTree([string] $Root) {
    New-Item -ItemType Directory -Force "$Root/nested/deeper/-dash dir", "$Root/empty dir" | Out-Null
    $i = 0
    foreach ($name in $script:OddNames) {
        $i++
        $dir = if ($i -le 2 -or $i % 3 -eq 2) { $Root } elseif ($i % 3 -eq 0) { "$Root/nested" } else { "$Root/nested/deeper/-dash dir" }
        $path = "$dir/$name"  # Join-Path would turn the backslash name into a separator
        [IO.File]::WriteAllText($path, "content of $name`n" * $i)
        [IO.File]::SetLastWriteTimeUtc($path, [datetime]::new(2021, 3, $i, 10, 0, 0, [DateTimeKind]::Utc))
    }
    [IO.File]::WriteAllBytes("$Root/nested/binary.bin", [byte[]](0..255 * 40))
    [IO.File]::SetUnixFileMode("$Root/plain.txt", [IO.UnixFileMode]'UserRead, UserWrite')                      # 0600
    [IO.File]::SetUnixFileMode("$Root/nested/binary.bin", [IO.UnixFileMode]'UserRead, UserWrite, UserExecute, GroupRead, GroupExecute, OtherRead, OtherExecute') # 0755
    New-Item -ItemType SymbolicLink -Path "$Root/link to plain" -Target 'plain.txt' | Out-Null
    New-Item -ItemType SymbolicLink -Path "$Root/nested/dangling" -Target '../no/such/file' | Out-Null
    [IO.Directory]::SetLastWriteTimeUtc("$Root/empty dir", [datetime]::new(2020, 1, 1, 0, 0, 0, [DateTimeKind]::Utc))
}

# One line per entry: path, kind, mode, size, mtime (s), and link target or content hash. Equal lists = equal trees.
# Plain .NET on purpose: the FileSystem provider treats '\', '*' and '[' in names specially even with -LiteralPath.
function Get-TreeSignature([string] $Root, [switch] $NoDirectoryTimes) {
    $base = [IO.Path]::GetFullPath($Root).TrimEnd('/')
    $sha = [Security.Cryptography.SHA256]::Create()
    $entries = [IO.Directory]::EnumerateFileSystemEntries($base, '*', [IO.SearchOption]::AllDirectories) | Sort-Object -CaseSensitive
    foreach ($full in $entries) {
        $rel = $full.Substring($base.Length + 1)
        $info = [IO.FileInfo]::new($full)
        $mtime = [long]([DateTimeOffset]$info.LastWriteTimeUtc).ToUnixTimeSeconds()
        if ($info.LinkTarget) { "L|$rel|$($info.LinkTarget)" }
        elseif ($info.Attributes -band [IO.FileAttributes]::Directory) {
            $t = if ($NoDirectoryTimes) { '' } else { $mtime }
            "D|$rel|$($info.UnixFileMode)|$t"
        }
        else {
            $hash = [Convert]::ToHexString($sha.ComputeHash([IO.File]::ReadAllBytes($full)))
            "F|$rel|$($info.UnixFileMode)|$($info.Length)|$mtime|$hash"
        }
    }
}

function Assert-TreesEqual([string] $Source, [string] $Replica, [switch] $NoDirectoryTimes) {
    $a = @(Get-TreeSignature $Source -NoDirectoryTimes:$NoDirectoryTimes)
    $b = @(Get-TreeSignature $Replica -NoDirectoryTimes:$NoDirectoryTimes)
    $diff = Compare-Object $a $b
    if ($diff) { throw "Trees differ:`n" + (($diff | ForEach-Object { "$($_.SideIndicator) $($_.InputObject)" }) -join "`n") }
    $a.Count | Should -BeGreaterThan 0
}

# A service converges eventually: the replica may still be taking its last batch when a proxy condition (a file there,
# an empty queue) holds. Compares until equal, or throws the differences seen last once the time is up.
function Wait-TreesEqual([string] $Source, [string] $Replica, [switch] $NoDirectoryTimes, [int] $TimeoutSeconds = 20) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($true) {
        try { Assert-TreesEqual $Source $Replica -NoDirectoryTimes:$NoDirectoryTimes; return }
        catch { if ([DateTime]::UtcNow -ge $deadline) { throw } }
        Start-Sleep -Milliseconds 100
    }
}

function Wait-Until([scriptblock] $Condition, [int] $TimeoutSeconds = 20, [string] $Because = 'condition') {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        if (& $Condition) { return }
        Start-Sleep -Milliseconds 50
    }
    throw "Timed out after $TimeoutSeconds s waiting for $Because."
}
