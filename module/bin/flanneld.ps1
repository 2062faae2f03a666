# The flanneld drop-in's body: parse flanneld's flags and FLANNELD_* variables (Core parses them as
# Go's flag package does), run Start-FlannelNode -Wait in the foreground, log glog-style to stderr.
# Exit codes as flanneld: 0 on a clean stop (SIGTERM/SIGINT) and for --version/--help, 1 on invalid
# values or a failed node, 2 on command-line syntax errors.
$ErrorActionPreference = 'Stop'

function Write-Log([char] $Level, [string] $Text) {
    # glog's line shape: Lmmdd hh:mm:ss.uuuuuu pid source] message
    $stamp = [DateTime]::Now.ToString('MMdd HH:mm:ss.ffffff', [Globalization.CultureInfo]::InvariantCulture)
    [Console]::Error.WriteLine("$Level$stamp $($PID.ToString().PadLeft(7)) flanneld] $Text")
}

try {
    Import-Module (Join-Path $PSScriptRoot '../FlannelPS.psd1')
}
catch {
    Write-Log 'E' "Failed to load the FlannelPS module: $($_.Exception.Message)"
    exit 1
}

# Core lives in FlannelPS's own AssemblyLoadContext: an assembly-qualified name reaches it through
# the module's resolver, a bare type name would not.
$cli = [type] 'FlannelPS.Core.Cli.FlanneldCommandLine, FlannelPS.Core'
$argv = [string[]] $args
if ($null -ne $env:_FLANNELD_ARGC) {
    # Started by the sh wrapper: the arguments come verbatim through the environment.
    $argv = [string[]] @(for ($i = 0; $i -lt [int] $env:_FLANNELD_ARGC; $i++) {
            [Environment]::GetEnvironmentVariable("_FLANNELD_ARG_$i")
            [Environment]::SetEnvironmentVariable("_FLANNELD_ARG_$i", $null)
        })
    $env:_FLANNELD_ARGC = $null
}
$parse = $cli::Parse($argv, [Func[string, string]] { param($n) [Environment]::GetEnvironmentVariable($n) })
if ($parse.Message) { [Console]::Error.WriteLine($parse.Message) }
if (-not $parse.Settings -or $parse.Settings.Help) { exit $parse.ExitCode }
$s = $parse.Settings
if ($s.Version) { [Console]::Error.WriteLine("v$((Get-Module FlannelPS).Version) (FlannelPS)"); exit 0 }

$node = @{
    EtcdEndpoint           = [string[]] ($s.EtcdEndpoints -split ',' | Where-Object { $_ })
    EtcdPrefix             = $s.EtcdPrefix
    SubnetFile             = $s.SubnetFile
    SubnetLeaseRenewMargin = $s.SubnetLeaseRenewMargin
    IptablesResyncSec      = $s.IptablesResync
    IpMasq                 = $s.IpMasq
    NoIptablesForwardRules = -not $s.IptablesForwardRules
    HealthzPort            = $s.HealthzPort
    HealthzIP              = $s.HealthzIP
    Wait                   = $true
}
if ($s.Iface.Count) { $node.Interface = [string[]] $s.Iface }
if ($s.PublicIP) { $node.PublicIP = $s.PublicIP }
if ($s.EtcdCAFile) { $node.EtcdCAFile = $s.EtcdCAFile }
if ($s.EtcdCertFile) { $node.EtcdCertFile = $s.EtcdCertFile }
if ($s.EtcdKeyFile) { $node.EtcdKeyFile = $s.EtcdKeyFile }
if ($s.EtcdUsername) {
    $node.EtcdCredential = [pscredential]::new($s.EtcdUsername, (ConvertTo-SecureString -AsPlainText -Force ([string] $s.EtcdPassword)))
}

$exitCode = 1
$finished = $false
try {
    Start-FlannelNode @node -Verbose 4>&1 3>&1 | ForEach-Object {
        if ($_ -is [System.Management.Automation.VerboseRecord]) {
            # -Verbose also echoes ShouldProcess's "Performing the operation" line: not a log line.
            if (-not $_.Message.StartsWith('Performing the operation')) { Write-Log 'I' $_.Message }
        }
        elseif ($_ -is [System.Management.Automation.WarningRecord]) { Write-Log 'W' $_.Message }
        elseif ($_.PSObject.Properties['Kind'] -and $_.Kind -eq 'ConfigError') { } # already logged as a warning
        elseif ($_.PSObject.Properties['Message']) { Write-Log 'I' $_.Message }
        else { Write-Log 'I' "$_" }
    }
    $exitCode = 0
    $finished = $true
}
catch {
    $finished = $true
    $message = $_.Exception.Message
    Write-Log 'E' $message
}
finally {
    # SIGINT reaches pwsh's own Ctrl+C handling too, which stops this pipeline (no catch runs) once the
    # node has shut down: that is a clean stop as well.
    if (-not $finished) { $exitCode = 0 }
    if ($exitCode -eq 0) { Write-Log 'I' 'Exiting cleanly...' }
    if (-not $finished) { exit 0 }
}
exit $exitCode
