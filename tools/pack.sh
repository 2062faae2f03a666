#!/usr/bin/env bash
# Packs the built module (out/FlannelPS) as out/FlannelPS.<version>.nupkg: the PowerShell module
# layout (module files at the package root + FlannelPS.nuspec) that Install-PSResource installs from
# a local folder repository. Offline: PSResourceGet's Compress-PSResource, shipped with pwsh.
# NuGet's packer drops Unix modes; the executable bits of bin/ scripts are written back into the
# zip entries, which PSResourceGet restores on install.
# Usage: tools/pack.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 NO_COLOR=1 POWERSHELL_TELEMETRY_OPTOUT=1
[[ "${1:-}" == "--no-build" ]] || ./build.sh Release
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
[[ -f out/FlannelPS/FlannelPS.psd1 ]] || { echo "pack: out/FlannelPS is not built (run ./build.sh)" >&2; exit 1; }
rm -f out/FlannelPS.*.nupkg
dotnet tool restore >/dev/null
# The package is made from a staged copy whose manifest also carries a PSCommand_<name> and
# PSCmdlet_<name> tag per exported cmdlet: that is what Find-PSResource -CommandName matches, in a
# folder repository (it reads the manifest's tags) and on a NuGet server (it reads the nuspec's,
# which Compress-PSResource copies from the manifest).
stage=$(mktemp -d /tmp/flannelps-pack.XXXXXX)
trap 'rm -rf "$stage"' EXIT
cp -a out/FlannelPS "$stage/FlannelPS"
_FPS_MODULE=$stage/FlannelPS _FPS_OUT=$(pwd)/out dotnet pwsh -NoProfile -NonInteractive -Command '
$ErrorActionPreference = "Stop"
$manifest = Join-Path $env:_FPS_MODULE FlannelPS.psd1
$data = Import-PowerShellDataFile $manifest
$commandTags = foreach ($c in $data.CmdletsToExport) { "PSCommand_$c"; "PSCmdlet_$c" }
$tags = @($data.PrivateData.PSData.Tags) + "PSIncludes_Cmdlet" + $commandTags
$text = [IO.File]::ReadAllText($manifest)
$q = [string] [char] 39
$tagsLine = [regex]::new("(?m)^(\s*Tags\s*=\s*)@\([^)]*\)")
if (-not $tagsLine.IsMatch($text)) { throw "pack: no Tags = @(...) line in $manifest" }
$text = $tagsLine.Replace($text, { param($m) $m.Groups[1].Value + "@(" + (($tags | ForEach-Object { $q + $_ + $q }) -join ", ") + ")" }, 1)
[IO.File]::WriteAllText($manifest, $text)
Compress-PSResource -Path $env:_FPS_MODULE -DestinationPath $env:_FPS_OUT
$pkg = Get-ChildItem -Path $env:_FPS_OUT -Filter "FlannelPS.*.nupkg" | Select-Object -First 1
Add-Type -AssemblyName System.IO.Compression
$zip = [IO.Compression.ZipFile]::Open($pkg.FullName, "Update")
try {
    foreach ($entry in @($zip.Entries)) {
        $source = Join-Path $env:_FPS_MODULE $entry.FullName
        if (-not (Test-Path -LiteralPath $source -PathType Leaf)) { continue }
        # bin/ scripts keep their modes (exec bits); everything else is a plain 0644 file.
        $mode = if ($entry.FullName.StartsWith("bin/")) { [int] [IO.File]::GetUnixFileMode($source) } else { 0x1A4 }
        $entry.ExternalAttributes = (0x8000 -bor $mode) -shl 16   # S_IFREG | permission bits
    }
}
finally { $zip.Dispose() }
'
pkg=out/FlannelPS.$version.nupkg
[[ -f "$pkg" ]] || { echo "pack: expected $pkg, got: $(ls out/*.nupkg 2>/dev/null)" >&2; exit 1; }
echo "pack: $pkg"
