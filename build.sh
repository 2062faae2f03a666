#!/usr/bin/env bash
# Builds FlannelPS and assembles the importable module at out/FlannelPS/
# (Import-Module ./out/FlannelPS/FlannelPS.psd1). Works on a fresh machine: restores pwsh as a
# local tool and Pester from NuGet. Usage: ./build.sh [Debug|Release]
set -euo pipefail
cd "$(dirname "$0")"
config="${1:-Release}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 NO_COLOR=1 POWERSHELL_TELEMETRY_OPTOUT=1

dotnet tool restore >/dev/null
dotnet restore tests/tools/PesterDownload.csproj >/dev/null
dotnet build FlannelPS.sln -c "$config" -nologo -clp:ErrorsOnly -v:q

out=out/FlannelPS
rm -rf "$out"
mkdir -p "$out"
dotnet publish src/FlannelPS/FlannelPS.csproj -c "$config" -o "$out" --no-build -nologo -v:q >/dev/null
rm -f "$out"/*.pdb "$out"/*.deps.json "$out"/*.xml
# Everything but the cmdlet assembly loads into FlannelPS's own AssemblyLoadContext (ModuleLoader.cs).
mkdir -p "$out/deps"
find "$out" -maxdepth 1 -name '*.dll' ! -name FlannelPS.dll ! -name FlannelPS.Loader.dll -exec mv {} "$out/deps/" \;
cp -r module/. "$out"/
cp LICENSE "$out"/
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
sed -i "s/ModuleVersion = '[^']*'/ModuleVersion = '$version'/" "$out/FlannelPS.psd1"
# bin/flanneld: the node as a NativeAOT executable built from Core (no PowerShell, no .NET runtime
# at run time). The native link uses the system's C toolchain (gcc, libc6-dev: tools/install-deps.sh).
daemon=src/FlannelPS.Daemon/bin/$config/publish
dotnet publish src/FlannelPS.Daemon/FlannelPS.Daemon.csproj -c "$config" -o "$daemon" -nologo -v:q -clp:ErrorsOnly >/dev/null
install -m 0755 "$daemon/flanneld" "$out/bin/flanneld"
chmod +x "$out"/bin/* 2>/dev/null || true
dotnet pwsh -NoProfile -NonInteractive -File tools/Build-Help.ps1 -ModulePath "$out" \
  -DocXml "src/FlannelPS/bin/$config/net10.0/linux-x64/FlannelPS.xml" -SourceDir src/FlannelPS/Help
echo "build: module $version at $out"
