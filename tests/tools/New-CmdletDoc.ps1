<#
.SYNOPSIS
    Writes docs/<Cmdlet>.md in PlatyPS schema 2.0.0 from the compiled cmdlet's metadata and the prose given here
    (what PlatyPS's New-MarkdownHelp does, for machines without PlatyPS). The markdown is then the source of the help.
#>
param(
    [Parameter(Mandatory)] [string] $Name,
    [Parameter(Mandatory)] [string] $Synopsis,
    [Parameter(Mandatory)] [string] $Description,
    # @( @{ Code = '...'; Remarks = '...' } )
    [Parameter(Mandatory)] [hashtable[]] $Examples,
    # Parameter name -> description
    [Parameter(Mandatory)] [hashtable] $Parameters,
    [string[]] $Inputs = @(),
    [string[]] $Outputs = @(),
    [string] $Notes = '',
    [string[]] $Related = @(),
    [string] $OutputPath = "$PSScriptRoot/../../docs"
)
$ErrorActionPreference = 'Stop'
$cmd = Get-Command $Name
$common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
$sb = [Text.StringBuilder]::new()
function L([string] $s = '') { [void]$sb.AppendLine($s) }

L '---'; L 'external help file: RealtimeMirror.dll-Help.xml'; L 'Module Name: RealtimeMirror'; L 'online version:'; L 'schema: 2.0.0'; L '---'; L
L "# $Name"; L; L '## SYNOPSIS'; L $Synopsis; L; L '## SYNTAX'; L
foreach ($set in $cmd.ParameterSets | Sort-Object { -not $_.IsDefault }, Name) {
    $title = if ($cmd.ParameterSets.Count -eq 1) { '__AllParameterSets' } else { $set.Name }
    L "### $title$(if ($set.IsDefault -and $cmd.ParameterSets.Count -gt 1) { ' (Default)' })"
    L '```'
    $parts = foreach ($p in $set.Parameters | Where-Object { $_.Name -notin $common }) {
        $type = if ($p.ParameterType -eq [switch]) { '' } else { " <$($p.ParameterType.Name)>" }
        $nameText = if ($p.Position -ge 0) { "[-$($p.Name)]" } else { "-$($p.Name)" }
        $text = "$nameText$type"
        if (-not $p.IsMandatory) { "[$text]" } else { $text }
    }
    $tail = @()
    if ($cmd.Parameters.ContainsKey('WhatIf')) { $tail += '[-WhatIf]', '[-Confirm]' }
    L ("$Name " + (($parts + $tail) -join ' ') + ' [<CommonParameters>]')
    L '```'; L
}
L '## DESCRIPTION'; L $Description; L
L '## EXAMPLES'; L
$i = 0
foreach ($ex in $Examples) {
    $i++
    L "### Example $i"; L '```powershell'; L $ex.Code; L '```'; L; L $ex.Remarks; L
}
L '## PARAMETERS'; L
$names = @($cmd.Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object)
if ($cmd.Parameters.ContainsKey('WhatIf')) { $names = @($names | Where-Object { $_ -notin 'WhatIf', 'Confirm' }) + 'Confirm', 'WhatIf' }
foreach ($pn in $names) {
    $p = $cmd.Parameters[$pn]
    $desc = if ($pn -eq 'WhatIf') { 'Shows what would happen if the cmdlet runs. The cmdlet is not run.' }
            elseif ($pn -eq 'Confirm') { 'Prompts you for confirmation before running the cmdlet.' }
            else { $Parameters[$pn] }
    if (-not $desc) { throw "No description for -$pn of $Name." }
    L "### -$pn"; L $desc; L; L '```yaml'
    L "Type: $($p.ParameterType.Name -replace '^SwitchParameter$','SwitchParameter')"
    $sets = @($p.ParameterSets.Keys)
    L "Parameter Sets: $(if ($sets -contains '__AllParameterSets' -or $sets.Count -eq $cmd.ParameterSets.Count) { '(All)' } else { $sets -join ', ' })"
    $aliases = if ($pn -eq 'WhatIf') { 'wi' } elseif ($pn -eq 'Confirm') { 'cf' } elseif ($p.Aliases.Count) { $p.Aliases -join ', ' } else { '' }
    L "Aliases: $aliases"; L
    $attr = $p.ParameterSets.Values | Select-Object -First 1
    L "Required: $(if ($attr.IsMandatory) { 'True' } else { 'False' })"
    L "Position: $(if ($attr.Position -ge 0) { $attr.Position } else { 'Named' })"
    $default = 'None'
    if ($p.ParameterType -eq [switch]) { $default = 'False' }
    L "Default value: $default"
    $pipe = @(); if ($attr.ValueFromPipeline) { $pipe += 'ByValue' }; if ($attr.ValueFromPipelineByPropertyName) { $pipe += 'ByPropertyName' }
    L "Accept pipeline input: $(if ($pipe) { 'True (' + ($pipe -join ', ') + ')' } else { 'False' })"
    $wild = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    L "Accept wildcard characters: $wild"
    L '```'; L
}
L '### CommonParameters'
L 'This cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable, -InformationAction, -InformationVariable, -OutVariable, -OutBuffer, -PipelineVariable, -ProgressAction, -Verbose, -WarningAction, and -WarningVariable. For more information, see [about_CommonParameters](http://go.microsoft.com/fwlink/?LinkID=113216).'
L
L '## INPUTS'; L
if (-not $Inputs) { L '### None'; L }
foreach ($t in $Inputs) { $n, $d = $t -split '\|', 2; L "### $n"; if ($d) { L $d }; L }
L '## OUTPUTS'; L
if (-not $Outputs) { L '### None'; L }
foreach ($t in $Outputs) { $n, $d = $t -split '\|', 2; L "### $n"; if ($d) { L $d }; L }
L '## NOTES'; L $Notes; L
L '## RELATED LINKS'; L
foreach ($r in $Related) { L "[$r]()"; L }
New-Item -ItemType Directory $OutputPath -Force | Out-Null
Set-Content -Path (Join-Path $OutputPath "$Name.md") -Value $sb.ToString().TrimEnd() -Encoding utf8NoBOM
