# The flanneld drop-in's body: parse flanneld's flags (Core does it exactly as Go's flag package),
# map them onto Start-FlannelNode -Wait, log to stderr, exit 0 on a clean stop, 1 on errors.
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../FlannelPS.psd1')
$parse = [FlannelPS.Core.Cli.FlanneldCommandLine]::Parse([string[]] $args, [Func[string, string]] { param($n) [Environment]::GetEnvironmentVariable($n) })
if ($parse.Message) { [Console]::Error.WriteLine($parse.Message) }
if (-not $parse.Settings -or $parse.Settings.Help) { exit $parse.ExitCode }
$s = $parse.Settings
if ($s.Version) { [Console]::Error.WriteLine("v$((Get-Module FlannelPS).Version) (FlannelPS)"); exit 0 }

$node = @{
    EtcdEndpoint           = $s.EtcdEndpoints -split ','
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

function Write-Log([string] $level, [string] $text) {
    [Console]::Error.WriteLine("$level$([DateTime]::Now.ToString('MMdd HH:mm:ss.ffffff')) $text")
}
try {
    Start-FlannelNode @node -Verbose 4>&1 3>&1 | ForEach-Object {
        switch ($_) {
            { $_ -is [System.Management.Automation.VerboseRecord] } { Write-Log 'I' $_.Message; break }
            { $_ -is [System.Management.Automation.WarningRecord] } { Write-Log 'W' $_.Message; break }
            default { Write-Log 'I' $_.Message }
        }
    }
    Write-Log 'I' 'Exiting cleanly...'
    exit 0
}
catch {
    Write-Log 'E' $_.Exception.Message
    exit 1
}
