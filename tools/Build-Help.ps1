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
foreach ($m in $docs.doc.members.member) {
    $summary = $m.SelectSingleNode('summary')
    if ($summary) { $members[$m.name] = ($summary.InnerText -replace '\s+', ' ').Trim() }
}

# -WhatIf and -Confirm (the optional common parameters) are shown like the cmdlet's own; the rest
# of the common parameters are [<CommonParameters>], as Get-Help adds them itself.
$common = [System.Management.Automation.Cmdlet]::CommonParameters
function Esc([string] $s) { [System.Security.SecurityElement]::Escape($s) }
function Paras([string] $text) {
    ($text -split "(`r?`n){2,}" | Where-Object { $_.Trim() } | ForEach-Object { "<maml:para>$(Esc ($_.Trim() -replace '\s*\r?\n\s*', ' '))</maml:para>" }) -join ''
}
function TypeName([type] $t) {
    if ($t -eq [System.Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    $t.Name
}
# Pipeline input of a parameter's attributes (one set's, or all of them): Get-Help's own wording.
function PipelineInput($attrs) {
    $kinds = @()
    if ($attrs | Where-Object ValueFromPipeline) { $kinds += 'ByValue' }
    if ($attrs | Where-Object ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}
# The value a parameter has when not given: read from a fresh instance of the cmdlet, so it cannot
# drift from the code. Switches, nulls and zero values print nothing.
function DefaultValue($instance, $p) {
    if ($p.SwitchParameter -or -not $instance) { return $null }
    $prop = $instance.GetType().GetProperty($p.Name)
    if (-not $prop) { return $null }
    $v = $prop.GetValue($instance)
    if ($null -eq $v -or ($v -is [int] -and $v -le 0) -or ($v -is [string] -and $v -eq '')) { return $null }
    if ($v -is [array]) { return ($v -join ', ') }
    "$v"
}
function ParamDescription($cmd, [string] $name) {
    $type = $cmd.ImplementingType
    while ($type) {
        $key = "P:$($type.FullName).$name"
        if ($members[$key]) { return $members[$key] }
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
            $pipe = PipelineInput $p
            [void] $sb.Append("<command:parameter required=`"$($p.IsMandatory.ToString().ToLower())`" position=`"$pos`" pipelineInput=`"$pipe`"><maml:name>$($p.Name)</maml:name>")
            if ($p.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
                [void] $sb.Append("<command:parameterValue required=`"true`">$(TypeName $p.ParameterType)</command:parameterValue>")
            }
            [void] $sb.Append('</command:parameter>')
        }
        [void] $sb.AppendLine('</command:syntaxItem>')
    }
    [void] $sb.AppendLine('</command:syntax><command:parameters>')
    $instance = try { [Activator]::CreateInstance($cmd.ImplementingType) } catch { $null }
    foreach ($p in $cmd.Parameters.Values | Where-Object { $_.Name -notin $common } | Sort-Object Name) {
        $attr = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
        # Required only when it is mandatory in every parameter set it belongs to; the position is the one it has where it has one.
        $mandatory = $attr.Count -gt 0 -and -not ($attr | Where-Object { -not $_.Mandatory })
        $position = ($attr | Where-Object { $_.Position -ge 0 } | Select-Object -First 1).Position
        $pos = if ($null -ne $position) { $position } else { 'named' }
        $pipe = PipelineInput $attr
        $glob = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
        $desc = ParamDescription $cmd $p.Name
        $set = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] }
        if ($set) { $desc += " Valid values: $($set.ValidValues -join ', ')." }
        $default = DefaultValue $instance $p
        $aliases = if ($p.Aliases.Count) { Esc ($p.Aliases -join ', ') } else { 'none' }
        [void] $sb.Append("<command:parameter required=`"$($mandatory.ToString().ToLower())`" position=`"$pos`" pipelineInput=`"$pipe`" globbing=`"$($glob.ToString().ToLower())`" aliases=`"$aliases`"><maml:name>$($p.Name)</maml:name><maml:description>$(Paras $desc)</maml:description>")
        [void] $sb.Append("<command:parameterValue required=`"$((-not $p.SwitchParameter).ToString().ToLower())`">$(TypeName $p.ParameterType)</command:parameterValue><dev:type><maml:name>$(Esc $p.ParameterType.FullName)</maml:name></dev:type>")
        if ($null -ne $default) { [void] $sb.Append("<dev:defaultValue>$(Esc $default)</dev:defaultValue>") }
        [void] $sb.Append('</command:parameter>')
        [void] $sb.AppendLine()
    }
    [void] $sb.AppendLine('</command:parameters>')
    # INPUTS: what the pipeline can bind, by value or by property name.
    [void] $sb.Append('<command:inputTypes>')
    $inputs = foreach ($p in $cmd.Parameters.Values | Where-Object { $_.Name -notin $common }) {
        $a = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
        if ($a | Where-Object ValueFromPipeline) { "$($p.ParameterType.FullName -replace '\[\]$', '')`tAs -$($p.Name)." }
        elseif ($a | Where-Object ValueFromPipelineByPropertyName) { "System.Management.Automation.PSObject`tAny object with a $($p.Name) property binds it to -$($p.Name)." }
    }
    $inputs = @($inputs | Sort-Object -Unique)
    if (-not $inputs) { $inputs = @("None`tThe cmdlet takes no pipeline input.") }
    foreach ($i in $inputs) {
        $name, $text = $i -split "`t", 2
        [void] $sb.Append("<command:inputType><dev:type><maml:name>$(Esc $name)</maml:name></dev:type><maml:description>$(Paras $text)</maml:description></command:inputType>")
    }
    [void] $sb.AppendLine('</command:inputTypes>')
    [void] $sb.Append('<command:returnValues>')
    foreach ($t in $cmd.OutputType | Sort-Object Name -Unique) {
        $sets = if ($t.ParameterSetName -and $t.ParameterSetName -notcontains '__AllParameterSets') { " With the $($t.ParameterSetName -join ', ') parameter set." } else { '' }
        [void] $sb.Append("<command:returnValue><dev:type><maml:name>$(Esc $(if ($t.Type) { $t.Type.FullName } else { $t.Name }))</maml:name></dev:type><maml:description>$(Paras $sets)</maml:description></command:returnValue>")
    }
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
