<#
.SYNOPSIS
    Turns PlatyPS-schema markdown (docs/*.md) into one MAML help file, the format PlatyPS's New-ExternalHelp
    writes, and about_*.md into about_*.help.txt. Used by build.ps1 -Task Docs where PlatyPS is not installed.
#>
param(
    [Parameter(Mandatory)] [string] $DocsPath,
    [Parameter(Mandatory)] [string] $OutputFile
)
$ErrorActionPreference = 'Stop'

# Splits a markdown file into its '## ' sections (and the '### ' subsections inside them).
function Get-Sections([string] $Text) {
    $sections = [ordered]@{}
    $current = $null
    foreach ($line in $Text -split "`r?`n") {
        if ($line -match '^## (.+)$') { $current = $Matches[1].Trim(); $sections[$current] = [Collections.Generic.List[string]]::new(); continue }
        if ($current) { $sections[$current].Add($line) }
    }
    $sections
}
function Get-Subsections([string[]] $Lines) {
    $subs = [Collections.Generic.List[object]]::new()
    $cur = $null
    foreach ($line in $Lines) {
        if ($line -match '^### (.+)$') { $cur = [pscustomobject]@{ Title = $Matches[1].Trim(); Lines = [Collections.Generic.List[string]]::new() }; $subs.Add($cur); continue }
        if ($cur) { $cur.Lines.Add($line) }
    }
    $subs
}
# Text outside code fences, as paragraphs.
function Get-Paragraphs([string[]] $Lines) {
    $paras = @(); $buf = @(); $inCode = $false
    foreach ($l in $Lines) {
        if ($l -match '^```') { $inCode = -not $inCode; continue }
        if ($inCode) { continue }
        if ($l.Trim() -eq '') { if ($buf) { $paras += ($buf -join ' ').Trim(); $buf = @() } } else { $buf += $l.Trim() }
    }
    if ($buf) { $paras += ($buf -join ' ').Trim() }
    $paras
}
function Get-Fence([string[]] $Lines) {
    $out = @(); $in = $false
    foreach ($l in $Lines) { if ($l -match '^```') { if ($in) { break }; $in = $true; continue }; if ($in) { $out += $l } }
    $out -join "`n"
}
function Get-Yaml([string[]] $Lines) {
    $h = @{}
    foreach ($l in (Get-Fence $Lines) -split "`n") { if ($l -match '^([^:]+):\s*(.*)$') { $h[$Matches[1].Trim()] = $Matches[2].Trim() } }
    $h
}

$ns = @{
    maml = 'http://schemas.microsoft.com/maml/2004/10'; command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
}
$settings = [Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [Text.UTF8Encoding]::new($false) }
$w = [Xml.XmlWriter]::Create($OutputFile, $settings)
$w.WriteStartDocument()
$w.WriteStartElement('helpItems'); $w.WriteAttributeString('schema', 'maml')
function Para([string] $text) { $w.WriteStartElement('maml', 'para', $ns.maml); $w.WriteString($text); $w.WriteEndElement() }
function Desc([string[]] $paras) { $w.WriteStartElement('maml', 'description', $ns.maml); foreach ($p in $paras) { Para $p }; $w.WriteEndElement() }
function El([string] $prefix, [string] $name, [string] $text) { $w.WriteStartElement($prefix, $name, $ns[$prefix]); $w.WriteString($text); $w.WriteEndElement() }

foreach ($file in Get-ChildItem $DocsPath -Filter '*-*.md' | Sort-Object Name) {
    $text = Get-Content $file.FullName -Raw
    $name = if ($text -match '(?m)^# (.+)$') { $Matches[1].Trim() } else { $file.BaseName }
    $verb, $noun = $name -split '-', 2
    $s = Get-Sections $text
    $params = Get-Subsections $s['PARAMETERS'] | Where-Object Title -ne 'CommonParameters' | ForEach-Object {
        $y = Get-Yaml $_.Lines
        [pscustomobject]@{ Name = $_.Title.TrimStart('-'); Description = @(Get-Paragraphs $_.Lines); Yaml = $y }
    }

    $w.WriteStartElement('command', 'command', $ns.command)
    $w.WriteAttributeString('xmlns', 'maml', $null, $ns.maml); $w.WriteAttributeString('xmlns', 'command', $null, $ns.command); $w.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)
    $w.WriteStartElement('command', 'details', $ns.command)
    El 'command' 'name' $name; El 'command' 'verb' $verb; El 'command' 'noun' $noun
    Desc @(Get-Paragraphs $s['SYNOPSIS'])
    $w.WriteEndElement()
    Desc @(Get-Paragraphs $s['DESCRIPTION'])

    $w.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in Get-Subsections $s['SYNTAX']) {
        $line = Get-Fence $set.Lines
        $setName = ($set.Title -replace '\s*\(Default\)$', '')
        $w.WriteStartElement('command', 'syntaxItem', $ns.command)
        El 'maml' 'name' $name
        foreach ($p in $params) {
            if ($line -notmatch "-$($p.Name)\b") { continue }
            $sets = $p.Yaml['Parameter Sets']
            if ($sets -ne '(All)' -and $setName -ne '__AllParameterSets' -and ($sets -split ',\s*') -notcontains $setName) { continue }
            $w.WriteStartElement('command', 'parameter', $ns.command)
            $w.WriteAttributeString('required', $p.Yaml['Required'].ToLower())
            $w.WriteAttributeString('position', $(if ($p.Yaml['Position'] -eq 'Named') { 'named' } else { $p.Yaml['Position'] }))
            $w.WriteAttributeString('pipelineInput', $p.Yaml['Accept pipeline input'])
            El 'maml' 'name' $p.Name
            Desc $p.Description
            if ($p.Yaml['Type'] -ne 'SwitchParameter') { $w.WriteStartElement('command', 'parameterValue', $ns.command); $w.WriteAttributeString('required', 'true'); $w.WriteString($p.Yaml['Type']); $w.WriteEndElement() }
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($p in $params) {
        $w.WriteStartElement('command', 'parameter', $ns.command)
        $w.WriteAttributeString('required', $p.Yaml['Required'].ToLower())
        $w.WriteAttributeString('globbing', $p.Yaml['Accept wildcard characters'].ToLower())
        $w.WriteAttributeString('pipelineInput', $p.Yaml['Accept pipeline input'])
        $w.WriteAttributeString('position', $(if ($p.Yaml['Position'] -eq 'Named') { 'named' } else { $p.Yaml['Position'] }))
        $w.WriteAttributeString('aliases', $(if ($p.Yaml['Aliases']) { $p.Yaml['Aliases'] } else { 'none' }))
        El 'maml' 'name' $p.Name
        Desc $p.Description
        $w.WriteStartElement('command', 'parameterValue', $ns.command); $w.WriteAttributeString('required', 'true'); $w.WriteString($p.Yaml['Type']); $w.WriteEndElement()
        $w.WriteStartElement('dev', 'type', $ns.dev); El 'maml' 'name' $p.Yaml['Type']; $w.WriteEndElement()
        El 'dev' 'defaultValue' $p.Yaml['Default value']
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    foreach ($pair in @(@('INPUTS', 'inputTypes', 'inputType'), @('OUTPUTS', 'returnValues', 'returnValue'))) {
        $w.WriteStartElement('command', $pair[1], $ns.command)
        foreach ($t in Get-Subsections $s[$pair[0]]) {
            $w.WriteStartElement('command', $pair[2], $ns.command)
            $w.WriteStartElement('dev', 'type', $ns.dev); El 'maml' 'name' $t.Title; $w.WriteEndElement()
            Desc @(Get-Paragraphs $t.Lines)
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }
    $w.WriteStartElement('maml', 'alertSet', $ns.maml); $w.WriteStartElement('maml', 'alert', $ns.maml)
    foreach ($p in Get-Paragraphs $s['NOTES']) { Para $p }
    $w.WriteEndElement(); $w.WriteEndElement()

    $w.WriteStartElement('command', 'examples', $ns.command)
    foreach ($ex in Get-Subsections $s['EXAMPLES']) {
        $w.WriteStartElement('command', 'example', $ns.command)
        El 'maml' 'title' "-------------------------- $($ex.Title) --------------------------"
        El 'dev' 'code' (Get-Fence $ex.Lines)
        $w.WriteStartElement('dev', 'remarks', $ns.dev); foreach ($p in Get-Paragraphs $ex.Lines) { Para $p }; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $ns.command)
    # The front matter's "online version" is the first link, as PlatyPS writes it: Get-Help -Online opens it.
    if ($text -match '(?m)^online version:[ \t]*(\S+)[ \t]*$') {
        $w.WriteStartElement('maml', 'navigationLink', $ns.maml); El 'maml' 'linkText' 'Online Version:'; El 'maml' 'uri' $Matches[1]; $w.WriteEndElement()
    }
    foreach ($l in $s['RELATED LINKS']) {
        if ($l -match '^\[([^\]]+)\]\(([^)]*)\)') {
            $w.WriteStartElement('maml', 'navigationLink', $ns.maml); El 'maml' 'linkText' $Matches[1]; El 'maml' 'uri' $Matches[2]; $w.WriteEndElement()
        }
    }
    $w.WriteEndElement()
    $w.WriteEndElement() # command
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Dispose()

# about topics: plain text beside the MAML file.
foreach ($about in Get-ChildItem $DocsPath -Filter 'about_*.md') {
    $plain = (Get-Content $about.FullName -Raw) -replace '(?m)^#+ ', '' -replace '```\w*', ''
    Set-Content -Path (Join-Path (Split-Path $OutputFile) ($about.BaseName + '.help.txt')) -Value $plain -Encoding utf8NoBOM
}
