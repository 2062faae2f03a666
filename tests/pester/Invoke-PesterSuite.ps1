<#
.SYNOPSIS
    Runs the Pester ring against the built module and writes "passed failed" to -ResultFile.
.DESCRIPTION
    Pester comes from the NuGet cache (tests/tools/PesterDownload.csproj), never from a gallery.
    Invoke-Pester exits 0 even when tests fail, so the counts decide the exit code here.
#>
param(
    [string] $ResultFile,
    [string[]] $Path = @(Join-Path $PSScriptRoot '*.Tests.ps1'),
    [string[]] $Tag,
    [string[]] $ExcludeTag
)
$ErrorActionPreference = 'Stop'
$pesterHome = Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages/pester/5.7.1/tools/Pester.psd1'
Import-Module $pesterHome -Force

if (-not $env:FLANNELPS_MODULE) {
    $env:FLANNELPS_MODULE = Join-Path $PSScriptRoot '../../out/FlannelPS/FlannelPS.psd1' | Resolve-Path | Select-Object -ExpandProperty Path
}

$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Normal'
$config.Output.RenderMode = 'Plaintext'
if ($Tag) { $config.Filter.Tag = $Tag }
if ($env:FLANNELPS_TEST_DOCKER -eq '0') { $ExcludeTag = @($ExcludeTag) + 'Docker' | Where-Object { $_ } }
if ($ExcludeTag) { $config.Filter.ExcludeTag = $ExcludeTag }
$result = Invoke-Pester -Configuration $config

$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
"pester: $($result.PassedCount) passed, $failed failed, $($result.SkippedCount) skipped"
if ($ResultFile) { "$($result.PassedCount) $failed" | Set-Content -Path $ResultFile }
if ($failed -gt 0 -or $result.PassedCount -eq 0) { exit 1 }
exit 0
