<#
.SYNOPSIS
    Generates the module's MAML help (FlannelPS.dll-Help.xml) at build time.
.DESCRIPTION
    Syntax and parameter metadata come from the built cmdlets themselves, parameter descriptions
    from the C# XML doc comments, and synopsis, description, examples and notes from
    src/FlannelPS/Help/<Cmdlet>.psd1. One source of truth each; nothing is written twice.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $DocXml,
    [Parameter(Mandatory)] [string] $SourceDir
)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path $ModulePath).Path
$module = Import-Module (Join-Path $ModulePath 'FlannelPS.psd1') -PassThru -Force
[xml] $docs = Get-Content -Raw $DocXml
$members = @{}
foreach ($m in $docs.doc.members.member) { $members[$m.name] = ($m.SelectSingleNode("summary").InnerText -replace '\s+', ' ').Trim() }

$common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
function Esc([string] $s) { [System.Security.SecurityElement]::Escape($s) }
function Paras([string] $text) {
    ($text -split "(`r?`n){2,}" | Where-Object { $_.Trim() } | ForEach-Object { "<maml:para>$(Esc ($_.Trim() -replace '\s*\r?\n\s*', ' '))</maml:para>" }) -join ''
}
function TypeName([type] $t) {
    if ($t -eq [System.Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    $t.Name
}
function ParamDescription($cmd, [string] $name) {
    $type = $cmd.ImplementingType
    while ($type) {
        $key = "P:$($type.FullName).$name"
        if ($members.ContainsKey($key)) { return $members[$key] }
        $type = $type.BaseType
    }
    switch ($name) {
        'WhatIf' { return 'Shows what would happen if the cmdlet runs. The cmdlet is not run.' }
        'Confirm' { return 'Prompts you for confirmation before running the cmdlet.' }
    }
    throw "No description for -$name of $($cmd.Name): add an XML doc comment to the property."
}

$sb = [System.Text.StringBuilder]::new()
[void] $sb.AppendLine('<?xml version="1.0" encoding="utf-8"?>')
[void] $sb.AppendLine('<helpItems schema="maml" xmlns="http://msh">')
foreach ($cmd in Get-Command -Module FlannelPS -CommandType Cmdlet | Sort-Object Name) {
    $srcFile = Join-Path $SourceDir "$($cmd.Name).psd1"
    if (-not (Test-Path $srcFile)) { throw "Missing help source $srcFile for $($cmd.Name)." }
    $src = Import-PowerShellDataFile $srcFile
    [void] $sb.AppendLine('<command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10">')
    [void] $sb.AppendLine("<command:details><command:name>$($cmd.Name)</command:name><command:verb>$($cmd.Verb)</command:verb><command:noun>$($cmd.Noun)</command:noun><maml:description>$(Paras $src.Synopsis)</maml:description></command:details>")
    [void] $sb.AppendLine("<maml:description>$(Paras $src.Description)</maml:description>")
    [void] $sb.AppendLine('<command:syntax>')
    foreach ($set in $cmd.ParameterSets) {
        [void] $sb.Append("<command:syntaxItem><maml:name>$($cmd.Name)</maml:name>")
        foreach ($p in $set.Parameters | Where-Object { $_.Name -notin $common }) {
            $pos = if ($p.Position -ge 0) { $p.Position } else { 'named' }
            $pipe = if ($p.ValueFromPipeline) { 'True (ByValue)' } elseif ($p.ValueFromPipelineByPropertyName) { 'True (ByPropertyName)' } else { 'False' }
            [void] $sb.Append("<command:parameter required=`"$($p.IsMandatory.ToString().ToLower())`" position=`"$pos`" pipelineInput=`"$pipe`"><maml:name>$($p.Name)</maml:name>")
            if ($p.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
                [void] $sb.Append("<command:parameterValue required=`"true`">$(TypeName $p.ParameterType)</command:parameterValue>")
            }
            [void] $sb.Append('</command:parameter>')
        }
        [void] $sb.AppendLine('</command:syntaxItem>')
    }
    [void] $sb.AppendLine('</command:syntax><command:parameters>')
    foreach ($p in $cmd.Parameters.Values | Where-Object { $_.Name -notin $common } | Sort-Object Name) {
        $attr = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
        $mandatory = [bool]($attr | Where-Object IsMandatory)
        $pipe = if ($attr | Where-Object ValueFromPipeline) { 'True (ByValue)' } elseif ($attr | Where-Object ValueFromPipelineByPropertyName) { 'True (ByPropertyName)' } else { 'False' }
        $glob = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
        $desc = ParamDescription $cmd $p.Name
        $set = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] }
        if ($set) { $desc += " Valid values: $($set.ValidValues -join ', ')." }
        [void] $sb.Append("<command:parameter required=`"$($mandatory.ToString().ToLower())`" position=`"named`" pipelineInput=`"$pipe`" globbing=`"$($glob.ToString().ToLower())`"><maml:name>$($p.Name)</maml:name><maml:description>$(Paras $desc)</maml:description>")
        [void] $sb.Append("<command:parameterValue required=`"$((-not $p.SwitchParameter).ToString().ToLower())`">$(TypeName $p.ParameterType)</command:parameterValue><dev:type><maml:name>$(Esc $p.ParameterType.FullName)</maml:name></dev:type></command:parameter>")
        [void] $sb.AppendLine()
    }
    [void] $sb.AppendLine('</command:parameters>')
    [void] $sb.Append('<command:returnValues>')
    foreach ($t in $cmd.OutputType) { [void] $sb.Append("<command:returnValue><dev:type><maml:name>$(Esc $t.Name)</maml:name></dev:type></command:returnValue>") }
    [void] $sb.AppendLine('</command:returnValues>')
    if ($src.Notes) { [void] $sb.AppendLine("<maml:alertSet><maml:alert>$(Paras $src.Notes)</maml:alert></maml:alertSet>") }
    [void] $sb.AppendLine('<command:examples>')
    $i = 0
    if (-not $src.Examples) { throw "$($cmd.Name) has no examples in $srcFile." }
    foreach ($ex in $src.Examples) {
        $i++
        [void] $sb.AppendLine("<command:example><maml:title>-------------------------- Example ${i}: $(Esc $ex.Title) --------------------------</maml:title><dev:code>$(Esc $ex.Code.Trim())</dev:code><dev:remarks>$(Paras $ex.Remarks)</dev:remarks></command:example>")
    }
    [void] $sb.AppendLine('</command:examples><command:relatedLinks>')
    foreach ($link in @($src.Links) + 'about_FlannelPS' | Where-Object { $_ }) {
        [void] $sb.Append("<maml:navigationLink><maml:linkText>$(Esc $link)</maml:linkText></maml:navigationLink>")
    }
    [void] $sb.AppendLine('</command:relatedLinks></command:command>')
}
[void] $sb.AppendLine('</helpItems>')
$out = Join-Path $ModulePath 'en-US/FlannelPS.dll-Help.xml'
New-Item -ItemType Directory -Force (Split-Path $out) | Out-Null
[IO.File]::WriteAllText($out, $sb.ToString())
"help: $((Get-Command -Module FlannelPS -CommandType Cmdlet).Count) cmdlets -> $out"
