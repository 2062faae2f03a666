# Sourced by the module's shell commands: sets FLANNELPS_PWSH_CMD to a way of starting pwsh.
# Order: $FLANNELPS_PWSH, pwsh on PATH, then pwsh restored as a .NET local tool (dotnet pwsh.dll).
if [ -n "${FLANNELPS_PWSH:-}" ]; then
  FLANNELPS_PWSH_CMD=$FLANNELPS_PWSH
elif command -v pwsh >/dev/null 2>&1; then
  FLANNELPS_PWSH_CMD=pwsh
else
  dll=$(ls -1d "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/powershell/*/tools/net*/any/unix/pwsh.dll 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dll" ] || ! command -v dotnet >/dev/null 2>&1; then
    echo "FlannelPS: pwsh not found (set FLANNELPS_PWSH, put pwsh on PATH, or run 'dotnet tool restore' in the FlannelPS repo)" >&2
    exit 127
  fi
  FLANNELPS_PWSH_CMD="dotnet $dll"
fi
