# The FlannelPS multi-host test topology, built from network namespaces, for Pester tests and demos.
# Same topology as testbed.sh (the bash twin used by bench/ and examples/):
#
#   <Name>-ul      underlay: bridge br0 192.0.2.1/24 with one veth port per host (h1, h2, ...) and etcd
#   <Name>-etcd    eth0 192.0.2.2/24, Debian's etcd on :2379 (temp data dir, health-checked)
#   <Name>-hI      eth0 192.0.2.(10+I)/24 MTU 1500, default route via 192.0.2.1
#   <Name>-hI-cJ   a "container": eth0 on host I's docker0 bridge, FLANNEL_SUBNET address + J
#
# Interfaces are created directly inside their namespaces (veth peers placed with `netns`), so
# nothing ever appears in the root namespace and names need only be unique per namespace.
# The testbed object records each namespace, process and directory as it is created, so
# Remove-FlannelTestbed cleans up after a partial failure and is safe to call twice.

Set-StrictMode -Version 3.0

$script:UnderlayGateway = '192.0.2.1'
$script:EtcdAddress = '192.0.2.2'
$script:EtcdPort = 2379

#region native process helpers

# Runs a program with an argument vector (no shell quoting), bounded in time.
function Invoke-TbProcess {
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @(),
        [int] $TimeoutSeconds = 30
    )
    $psi = [System.Diagnostics.ProcessStartInfo]::new($FilePath)
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.RedirectStandardInput = $true
    $psi.UseShellExecute = $false
    $p = [System.Diagnostics.Process]::Start($psi)
    try {
        $p.StandardInput.Close()
        # Both streams read concurrently so a chatty child cannot block on a full pipe.
        $out = $p.StandardOutput.ReadToEndAsync()
        $err = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
            $p.Kill($true)
            $null = $p.WaitForExit(5000)
            throw "Timed out after $TimeoutSeconds s: $FilePath $($ArgumentList -join ' ')"
        }
        $p.WaitForExit()
        [pscustomobject]@{
            ExitCode = $p.ExitCode
            Output   = $out.GetAwaiter().GetResult()
            Error    = $err.GetAwaiter().GetResult()
        }
    }
    finally {
        $p.Dispose()
    }
}

# Runs a program and throws (with its stderr) when it fails; returns stdout.
function Invoke-TbNative {
    param(
        [Parameter(Mandatory)] [string] $FilePath,
        [string[]] $ArgumentList = @(),
        [int] $TimeoutSeconds = 30
    )
    $r = Invoke-TbProcess -FilePath $FilePath -ArgumentList $ArgumentList -TimeoutSeconds $TimeoutSeconds
    if ($r.ExitCode -ne 0) {
        throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $($r.ExitCode): $($r.Error.Trim())"
    }
    $r.Output
}

function Invoke-TbIp { Invoke-TbNative -FilePath 'ip' -ArgumentList $args }

function Test-TbNamespaceExists([string] $Namespace) {
    $list = (Invoke-TbProcess -FilePath 'ip' -ArgumentList 'netns', 'list').Output
    foreach ($line in $list -split "`n") {
        if (($line -split ' ', 2)[0] -ceq $Namespace) { return $true }
    }
    $false
}

# Creates a namespace and records it on the testbed only once it exists: a name clash must never
# lead Remove-FlannelTestbed to delete a namespace somebody else made.
function Add-TbNamespace($Testbed, [string] $Namespace) {
    Invoke-TbIp netns add $Namespace | Out-Null
    $Testbed.Namespaces.Add($Namespace)
    Invoke-TbIp -n $Namespace link set lo up | Out-Null
    # No IPv6: router solicitations and DAD would be the first packets on every new link.
    Invoke-TbNative -FilePath 'ip' -ArgumentList 'netns', 'exec', $Namespace, 'sysctl', '-qw',
        'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1' | Out-Null
}

# veth eth0 inside $Namespace, its peer $Port on the underlay bridge.
function Connect-TbUnderlay($Testbed, [string] $Namespace, [string] $Address, [string] $Port) {
    Invoke-TbIp -n $Namespace link add eth0 mtu 1500 type veth peer name $Port netns $Testbed.Underlay | Out-Null
    Invoke-TbIp -n $Testbed.Underlay link set $Port mtu 1500 master br0 up | Out-Null
    Invoke-TbIp -n $Namespace addr add $Address dev eth0 | Out-Null
    Invoke-TbIp -n $Namespace link set eth0 up | Out-Null
}

function Resolve-TbNamespace($Testbed, [string] $Namespace) {
    if ($null -ne $Testbed -and -not $Namespace.StartsWith("$($Testbed.Name)-", [StringComparison]::Ordinal)) {
        return "$($Testbed.Name)-$Namespace"
    }
    $Namespace
}

function ConvertTo-TbUInt32([string] $Address) {
    $b = [System.Net.IPAddress]::Parse($Address).GetAddressBytes()
    ([uint32]$b[0] -shl 24) -bor ([uint32]$b[1] -shl 16) -bor ([uint32]$b[2] -shl 8) -bor [uint32]$b[3]
}

function ConvertFrom-TbUInt32([uint32] $Value) {
    '{0}.{1}.{2}.{3}' -f (($Value -shr 24) -band 255), (($Value -shr 16) -band 255), (($Value -shr 8) -band 255), ($Value -band 255)
}

#endregion

function Wait-FlannelTestbedCondition {
    <#
    .SYNOPSIS
        Polls a script block until it returns a true value; throws after -TimeoutSeconds.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [scriptblock] $Condition,
        [Parameter(Mandatory)] [string] $Description,
        [ValidateRange(1, 600)] [int] $TimeoutSeconds = 30,
        [ValidateRange(10, 5000)] [int] $IntervalMilliseconds = 100
    )
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($true) {
        $value = & $Condition
        if ($value) { return $value }
        if ([DateTime]::UtcNow -ge $deadline) { throw "Timed out after $TimeoutSeconds s waiting for $Description." }
        Start-Sleep -Milliseconds $IntervalMilliseconds
    }
}

function Invoke-FlannelTestbedCommand {
    <#
    .SYNOPSIS
        Runs a command inside a testbed namespace (ip netns exec), bounded in time.
    .DESCRIPTION
        -Command with one element runs through /bin/sh -c (pipes and redirections work); with
        several elements it is an argument vector. Returns stdout and throws when the command
        exits non-zero; with -PassThru returns {ExitCode, Output, Error} and never throws on
        the exit code. -Namespace is a full namespace name, or with -Testbed a short one
        (h1, h1-c1, etcd, ul).
    .EXAMPLE
        Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -Command ping, -c, 1, 192.0.2.12
    #>
    [CmdletBinding()]
    [OutputType([string], [pscustomobject])]
    param(
        [Parameter(ValueFromPipelineByPropertyName)] [psobject] $Testbed,
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)] [string] $Namespace,
        [Parameter(Mandatory)] [string[]] $Command,
        [ValidateRange(1, 3600)] [int] $TimeoutSeconds = 30,
        [switch] $PassThru
    )
    process {
        $ns = Resolve-TbNamespace $Testbed $Namespace
        $argv = [System.Collections.Generic.List[string]]::new()
        $argv.AddRange([string[]]@('netns', 'exec', $ns))
        if ($Command.Count -eq 1) { $argv.AddRange([string[]]@('/bin/sh', '-c', $Command[0])) }
        else { $argv.AddRange($Command) }
        if ($PassThru) {
            Invoke-TbProcess -FilePath 'ip' -ArgumentList $argv -TimeoutSeconds $TimeoutSeconds
        }
        else {
            Invoke-TbNative -FilePath 'ip' -ArgumentList $argv -TimeoutSeconds $TimeoutSeconds
        }
    }
}

function Start-FlannelTestbedProcess {
    <#
    .SYNOPSIS
        Starts a long-running process in a testbed namespace, output to a log file, recorded on
        the testbed so Remove-FlannelTestbed stops it.
    .OUTPUTS
        {Name, Namespace, Pid, LogFile, Command}
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)] [psobject] $Testbed,
        [Parameter(Mandatory)] [string] $Namespace,
        [Parameter(Mandatory)] [string[]] $Command,
        [string] $Name,
        [string] $LogFile,
        [hashtable] $Environment = @{}
    )
    if ($Testbed.Removed) { throw "Testbed '$($Testbed.Name)' has been removed." }
    $ns = Resolve-TbNamespace $Testbed $Namespace
    if (-not $Name) { $Name = [System.IO.Path]::GetFileName($Command[0]) }
    if (-not $LogFile) {
        $LogFile = Join-Path $Testbed.WorkDir ('{0}-{1}-{2}.log' -f $ns, $Name, $Testbed.Processes.Count)
    }
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
    # sh redirects, then execs ip, which execs the command: the PID we get is the command's own.
    foreach ($a in @('-c', 'log=$1; shift; exec "$@" >"$log" 2>&1 </dev/null', 'sh', $LogFile, 'ip', 'netns', 'exec', $ns) + $Command) {
        $psi.ArgumentList.Add($a)
    }
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $psi.UseShellExecute = $false
    $p = [System.Diagnostics.Process]::Start($psi)
    $record = [pscustomobject]@{
        PSTypeName = 'FlannelTestbedProcess'
        Name       = $Name
        Namespace  = $ns
        Pid        = $p.Id
        LogFile    = $LogFile
        Command    = $Command -join ' '
    }
    $p.Dispose()
    $Testbed.Processes.Add($record)
    $record
}

function Stop-FlannelTestbedProcess {
    <#
    .SYNOPSIS
        Stops a process started with Start-FlannelTestbedProcess: SIGTERM, then SIGKILL after
        -TimeoutSeconds. Stopping a process that has already exited is not an error.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline)] [psobject] $Process,
        [ValidateRange(0, 60)] [int] $TimeoutSeconds = 3
    )
    process {
        $id = [int]$Process.Pid
        if (-not (Test-FlannelTestbedProcessAlive $id)) { return }
        $null = Invoke-TbProcess -FilePath 'kill' -ArgumentList '-TERM', "$id" -TimeoutSeconds 5
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while ((Test-FlannelTestbedProcessAlive $id) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        if (Test-FlannelTestbedProcessAlive $id) {
            $null = Invoke-TbProcess -FilePath 'kill' -ArgumentList '-KILL', "$id" -TimeoutSeconds 5
            $deadline = [DateTime]::UtcNow.AddSeconds(5)
            while ((Test-FlannelTestbedProcessAlive $id) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        }
    }
}

function Start-FlannelTestbedCapture {
    <#
    .SYNOPSIS
        Starts tcpdump (-n plus -Arguments) in a testbed namespace and returns once it listens, so
        no packet sent afterwards is missed. A tcpdump that exits first (bad filter, no such
        interface) throws with its output.
    .EXAMPLE
        $cap = Start-FlannelTestbedCapture -Testbed $tb -Namespace h2 -Arguments '-i', 'eth0', '-l', '-c', '1', 'udp port 8285'
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)] [psobject] $Testbed,
        [Parameter(Mandatory)] [string] $Namespace,
        [Parameter(Mandatory)] [string[]] $Arguments,
        [string] $Name = 'tcpdump'
    )
    $cap = Start-FlannelTestbedProcess -Testbed $Testbed -Namespace $Namespace -Name $Name -Command (@('tcpdump', '-n') + $Arguments)
    $null = Wait-FlannelTestbedCondition -Description "tcpdump in $Namespace listening" -TimeoutSeconds 10 -Condition {
        if (-not (Test-FlannelTestbedProcessAlive $cap.Pid)) { throw "tcpdump exited: $(Get-Content -Raw $cap.LogFile)" }
        (Test-Path $cap.LogFile) -and (Get-Content -Raw $cap.LogFile) -match 'listening on'
    }
    $cap
}

function Wait-FlannelTestbedCapture {
    <#
    .SYNOPSIS
        Waits (bounded) until a capture started with -c 1 has its packet, then returns its output.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] [psobject] $Capture,
        [Parameter(Mandatory)] [string] $Description,
        [ValidateRange(1, 120)] [int] $TimeoutSeconds = 10
    )
    $null = Wait-FlannelTestbedCondition -Description $Description -TimeoutSeconds $TimeoutSeconds -Condition {
        (Get-Content -Raw $Capture.LogFile) -match '1 packet captured'
    }
    Get-Content -Raw $Capture.LogFile
}

# Alive = exists and is not a zombie (a reaped-later child of ours still has a /proc entry).
function Test-FlannelTestbedProcessAlive([int] $Id) {
    $stat = "/proc/$Id/stat"
    if (-not (Test-Path -LiteralPath $stat)) { return $false }
    try { $text = [System.IO.File]::ReadAllText($stat) } catch { return $false }
    $state = $text.Substring($text.LastIndexOf(')') + 2, 1)
    $state -ne 'Z' -and $state -ne 'X'
}

function New-FlannelTestbed {
    <#
    .SYNOPSIS
        Builds an underlay, N host namespaces and an etcd namespace running etcd.
    .DESCRIPTION
        On any failure everything created so far is removed before the error is rethrown.
        -ContainersPerHost adds that many containers per host right away, on the subnets of
        -ContainerSubnet (default 10.0.<I>.1/24 for host I) with -ContainerMtu.
    .EXAMPLE
        $tb = New-FlannelTestbed -Name "fptb-$PID" -HostCount 2
        try { ... } finally { Remove-FlannelTestbed -Testbed $tb }
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [ValidatePattern('^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$')]
        [string] $Name,
        [Parameter(Mandatory)] [ValidateRange(1, 32)] [int] $HostCount,
        [ValidateRange(0, 16)] [int] $ContainersPerHost = 0,
        [string[]] $ContainerSubnet,
        [ValidateRange(68, 1500)] [int] $ContainerMtu = 1472,
        [switch] $NoEtcd,
        [ValidateRange(1, 300)] [int] $EtcdTimeoutSeconds = 20
    )
    if ($ContainerSubnet -and $ContainerSubnet.Count -lt $HostCount) {
        throw "-ContainerSubnet needs one subnet per host ($HostCount), got $($ContainerSubnet.Count)."
    }
    if (Test-TbNamespaceExists "$Name-ul") {
        throw "A namespace '$Name-ul' already exists: pick a unique -Name (e.g. with the PID) or remove the old testbed."
    }
    $tb = [pscustomobject]@{
        PSTypeName        = 'FlannelTestbed'
        Name              = $Name
        WorkDir           = (Invoke-TbNative -FilePath 'mktemp' -ArgumentList '-d', "/tmp/$Name.XXXXXX").Trim()
        Underlay          = "$Name-ul"
        UnderlayGateway   = $script:UnderlayGateway
        EtcdNamespace     = $null
        EtcdEndpoint      = $null
        EtcdLocalEndpoint = $null
        EtcdProcess       = $null
        Hosts             = [System.Collections.Generic.List[object]]::new()
        Containers        = [System.Collections.Generic.List[object]]::new()
        Namespaces        = [System.Collections.Generic.List[string]]::new()
        Processes         = [System.Collections.Generic.List[object]]::new()
        Removed           = $false
    }
    try {
        Add-TbNamespace $tb $tb.Underlay
        Invoke-TbIp -n $tb.Underlay link add br0 mtu 1500 type bridge | Out-Null
        Invoke-TbIp -n $tb.Underlay addr add "$($script:UnderlayGateway)/24" dev br0 | Out-Null
        Invoke-TbIp -n $tb.Underlay link set br0 up | Out-Null

        for ($i = 1; $i -le $HostCount; $i++) {
            $ns = "$Name-h$i"
            $address = "192.0.2.$(10 + $i)"
            Add-TbNamespace $tb $ns
            Connect-TbUnderlay $tb $ns "$address/24" "h$i"
            # flannel picks its interface from the default route: give it one.
            Invoke-TbIp -n $ns route add default via $script:UnderlayGateway dev eth0 | Out-Null
            $hostDir = Join-Path $tb.WorkDir "h$i"
            $null = New-Item -ItemType Directory -Path $hostDir
            $tb.Hosts.Add([pscustomobject]@{
                PSTypeName = 'FlannelTestbedHost'
                Name       = "h$i"
                Namespace  = $ns
                Address    = $address
                Interface  = 'eth0'
                Mtu        = 1500
                WorkDir    = $hostDir
                SubnetFile = Join-Path $hostDir 'subnet.env'
                Subnet     = $null
                Containers = [System.Collections.Generic.List[object]]::new()
            })
        }

        if (-not $NoEtcd) {
            $ns = "$Name-etcd"
            Add-TbNamespace $tb $ns
            Connect-TbUnderlay $tb $ns "$($script:EtcdAddress)/24" 'etcd'
            $port = $script:EtcdPort
            $tb.EtcdNamespace = $ns
            $tb.EtcdEndpoint = "http://$($script:EtcdAddress):$port"
            $tb.EtcdLocalEndpoint = "http://127.0.0.1:$port"
            $tb.EtcdProcess = Start-FlannelTestbedProcess -Testbed $tb -Namespace $ns -Name etcd -Command @(
                'etcd', '--name', 'testbed', '--data-dir', (Join-Path $tb.WorkDir 'etcd-data'),
                '--listen-client-urls', "$($tb.EtcdEndpoint),$($tb.EtcdLocalEndpoint)",
                '--advertise-client-urls', $tb.EtcdEndpoint,
                '--listen-peer-urls', "http://127.0.0.1:$($port + 1)",
                '--initial-advertise-peer-urls', "http://127.0.0.1:$($port + 1)",
                '--initial-cluster', "testbed=http://127.0.0.1:$($port + 1)")
            $etcdLog = $tb.EtcdProcess.LogFile
            try {
                $null = Wait-FlannelTestbedCondition -Description "etcd health in $ns" -TimeoutSeconds $EtcdTimeoutSeconds -IntervalMilliseconds 200 -Condition {
                    if (-not (Test-FlannelTestbedProcessAlive $tb.EtcdProcess.Pid)) { throw "etcd exited: $(Get-Content -Tail 5 $etcdLog)" }
                    (Invoke-FlannelTestbedCommand -Namespace $ns -PassThru -TimeoutSeconds 10 -Command @(
                        'etcdctl', "--endpoints=$($tb.EtcdLocalEndpoint)", '--dial-timeout=1s', '--command-timeout=2s', 'endpoint', 'health')).ExitCode -eq 0
                }
            }
            catch {
                throw "etcd did not become healthy: $($_.Exception.Message) (log: $etcdLog)"
            }
        }

        if ($ContainersPerHost -gt 0) {
            for ($i = 1; $i -le $HostCount; $i++) {
                $subnet = if ($ContainerSubnet) { $ContainerSubnet[$i - 1] } else { "10.0.$i.1/24" }
                $null = Add-FlannelTestbedContainer -Testbed $tb -HostName "h$i" -Subnet $subnet -Mtu $ContainerMtu -Count $ContainersPerHost
            }
        }
    }
    catch {
        $failure = $_
        Remove-FlannelTestbed -Testbed $tb -WarningAction SilentlyContinue
        throw $failure
    }
    $tb
}

function Add-FlannelTestbedContainer {
    <#
    .SYNOPSIS
        Adds "container" namespaces to a host, on a docker0-like bridge addressed FLANNEL_SUBNET.
    .DESCRIPTION
        The first call on a host creates docker0 with -Subnet (e.g. 10.0.5.1/24, as subnet.env's
        FLANNEL_SUBNET says) and -Mtu, and sets ip_forward=1 in the host. Container J of that host
        gets the bridge address + J (10.0.5.2, 10.0.5.3, ...) with MTU -Mtu and a default route
        via the bridge. Later calls must use the same subnet and add further containers.
    .OUTPUTS
        One object per container: {Name, Namespace, HostName, Address, PrefixLength, Gateway, Mtu}
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)] [psobject] $Testbed,
        [Parameter(Mandatory)] [string] $HostName,
        [Parameter(Mandatory)]
        [ValidatePattern('^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/\d{1,2}$')]
        [string] $Subnet,
        [ValidateRange(68, 65535)] [int] $Mtu = 1472,
        [ValidateRange(1, 16)] [int] $Count = 1
    )
    if ($Testbed.Removed) { throw "Testbed '$($Testbed.Name)' has been removed." }
    $h = $Testbed.Hosts | Where-Object Name -EQ $HostName
    if (-not $h) { throw "Testbed '$($Testbed.Name)' has no host '$HostName' (hosts: $($Testbed.Hosts.Name -join ', '))." }
    $gateway, $lenText = $Subnet -split '/'
    $len = [int]$lenText
    if ($len -lt 8 -or $len -gt 30) { throw "Subnet '$Subnet': prefix length must be 8..30." }
    $base = ConvertTo-TbUInt32 $gateway
    $broadcast = $base -bor ([uint32]([math]::Pow(2, 32 - $len) - 1))
    if ($null -eq $h.Subnet) {
        Invoke-TbIp -n $h.Namespace link add docker0 mtu $Mtu type bridge | Out-Null
        $h.Subnet = $Subnet
        Invoke-TbIp -n $h.Namespace addr add $Subnet dev docker0 | Out-Null
        Invoke-TbIp -n $h.Namespace link set docker0 up | Out-Null
        Invoke-FlannelTestbedCommand -Namespace $h.Namespace -Command 'sysctl', '-qw', 'net.ipv4.ip_forward=1' | Out-Null
    }
    elseif ($h.Subnet -ne $Subnet) {
        throw "Host '$HostName' already has docker0 on $($h.Subnet); cannot add containers on $Subnet."
    }
    for ($k = 0; $k -lt $Count; $k++) {
        $j = $h.Containers.Count + 1
        $addressValue = $base + [uint32]$j
        if ($addressValue -ge $broadcast) { throw "Subnet '$Subnet' has no room for container $j." }
        $address = ConvertFrom-TbUInt32 $addressValue
        $ns = "$($h.Namespace)-c$j"
        Add-TbNamespace $Testbed $ns
        Invoke-TbIp -n $ns link add eth0 mtu $Mtu type veth peer name "vc$j" netns $h.Namespace | Out-Null
        Invoke-TbIp -n $h.Namespace link set "vc$j" mtu $Mtu master docker0 up | Out-Null
        Invoke-TbIp -n $ns addr add "$address/$len" dev eth0 | Out-Null
        Invoke-TbIp -n $ns link set eth0 up | Out-Null
        Invoke-TbIp -n $ns route add default via $gateway dev eth0 | Out-Null
        $c = [pscustomobject]@{
            PSTypeName   = 'FlannelTestbedContainer'
            Name         = "$HostName-c$j"
            Namespace    = $ns
            HostName     = $HostName
            Address      = $address
            PrefixLength = $len
            Gateway      = $gateway
            Mtu          = $Mtu
        }
        $h.Containers.Add($c)
        $Testbed.Containers.Add($c)
        $c
    }
}

#region FlannelPS nodes on testbed hosts

function Get-FlannelTestbedSubnetEnv {
    <#
    .SYNOPSIS
        Reads a subnet.env (KEY=VALUE lines) into an ordered hashtable; $null when the file is
        absent or not yet complete (no FLANNEL_MTU line, which flannel writes after the subnet).
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param([Parameter(Mandatory)] [string] $Path)
    if (-not (Test-Path -LiteralPath $Path)) { return $null }
    $values = [ordered]@{}
    foreach ($line in [System.IO.File]::ReadAllLines($Path)) {
        $k, $v = $line -split '=', 2
        if ($k) { $values[$k] = $v }
    }
    if (-not $values.Contains('FLANNEL_MTU')) { return $null }
    $values
}

function Start-FlannelTestbedNode {
    <#
    .SYNOPSIS
        Starts a FlannelPS node (Start-FlannelNode -Wait in its own pwsh) inside a testbed host,
        with that host's own subnet file (/run is shared by all namespaces), logging node events.
    .DESCRIPTION
        The node talks to the testbed's etcd. -Module is the FlannelPS manifest to import
        (default $env:FLANNELPS_MODULE). -ArgumentList is appended to Start-FlannelNode as
        PowerShell text (e.g. '-IpMasq'); -Environment adds variables to the node process's
        environment (e.g. FLANNELPS_DATAPATH_STATS_SECONDS). Wait for it with Wait-FlannelTestbedNode; stop it with
        Stop-FlannelTestbedProcess (SIGTERM, which the node handles as a clean stop).
    .OUTPUTS
        The process record of Start-FlannelTestbedProcess plus HostName and SubnetFile.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)] [psobject] $Testbed,
        [Parameter(Mandatory)] [string] $HostName,
        [string] $Module = $env:FLANNELPS_MODULE,
        [string] $ArgumentList = '',
        [string] $SubnetFile,
        [hashtable] $Environment = @{}
    )
    $h = $Testbed.Hosts | Where-Object Name -EQ $HostName
    if (-not $h) { throw "Testbed '$($Testbed.Name)' has no host '$HostName'." }
    if (-not $Module -or -not (Test-Path -LiteralPath $Module)) { throw "FlannelPS module '$Module' not found: pass -Module or set FLANNELPS_MODULE." }
    if (-not $Testbed.EtcdEndpoint) { throw "Testbed '$($Testbed.Name)' has no etcd." }
    if (-not $SubnetFile) { $SubnetFile = $h.SubnetFile }
    $q = { param($s) "'" + ($s -replace "'", "''") + "'" }
    $script = "Import-Module $(& $q $Module); Start-FlannelNode -EtcdEndpoint $($Testbed.EtcdEndpoint) -SubnetFile $(& $q $SubnetFile) $ArgumentList -Wait | ForEach-Object Message"
    $p = Start-FlannelTestbedProcess -Testbed $Testbed -Namespace $h.Namespace -Name flannel -Command (
        (Get-FlannelTestbedPwshCommand) + @('-NoProfile', '-NonInteractive', '-Command', $script)) -Environment (@{ NO_COLOR = '1' } + $Environment)
    $p | Add-Member -NotePropertyName HostName -NotePropertyValue $HostName
    $p | Add-Member -NotePropertyName SubnetFile -NotePropertyValue $SubnetFile
    $p
}

function Wait-FlannelTestbedNode {
    <#
    .SYNOPSIS
        Waits until a node from Start-FlannelTestbedNode reports State: Running and its subnet.env
        is complete; returns the subnet.env values. Fails at once, with the log tail, when the
        node process exits.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory, ValueFromPipeline)] [psobject] $Node,
        [ValidateRange(1, 600)] [int] $TimeoutSeconds = 60
    )
    process {
        try {
            Wait-FlannelTestbedCondition -Description "the node in $($Node.Namespace) to run" -TimeoutSeconds $TimeoutSeconds -IntervalMilliseconds 200 -Condition {
                $log = if (Test-Path -LiteralPath $Node.LogFile) { [System.IO.File]::ReadAllText($Node.LogFile) } else { '' }
                if (-not (Test-FlannelTestbedProcessAlive $Node.Pid)) { throw "the node exited. Log:`n$log" }
                if ($log -match 'State: Running') { Get-FlannelTestbedSubnetEnv -Path $Node.SubnetFile }
            }
        }
        catch {
            $tail = if (Test-Path -LiteralPath $Node.LogFile) { (Get-Content -Tail 20 -LiteralPath $Node.LogFile) -join "`n" } else { '(no log)' }
            throw "Node in $($Node.Namespace) not running: $($_.Exception.Message)`nLog tail:`n$tail"
        }
    }
}

#region real flanneld on testbed hosts

function Get-FlannelTestbedFlanneldBinary {
    <#
    .SYNOPSIS
        The real flanneld to test against: $env:FLANNELD_BINARY when set, otherwise
        ../shared/anchors/flanneld-v0.20.2 beside the repository root. $null when that file is
        absent or not executable, so a caller can skip with Get-FlannelTestbedFlanneldSkipReason.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()
    $path = if ($env:FLANNELD_BINARY) { $env:FLANNELD_BINARY } else { Join-Path $PSScriptRoot '../../../shared/anchors/flanneld-v0.20.2' }
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { return $null }
    $full = (Resolve-Path -LiteralPath $path).Path
    if (-not ([System.IO.File]::GetUnixFileMode($full) -band [System.IO.UnixFileMode]::UserExecute)) { return $null }
    $full
}

function Get-FlannelTestbedFlanneldSkipReason {
    <#
    .SYNOPSIS
        $null when a real flanneld is available, otherwise the sentence a test skips with.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()
    if (Get-FlannelTestbedFlanneldBinary) { return $null }
    $where = if ($env:FLANNELD_BINARY) { "FLANNELD_BINARY='$($env:FLANNELD_BINARY)'" } else { "'$(Join-Path $PSScriptRoot '../../../shared/anchors/flanneld-v0.20.2')'" }
    "real flanneld not found at $where (not a file, or not executable): set FLANNELD_BINARY to a flanneld v0.20.2 binary to run the interop tests."
}

function Start-FlannelTestbedFlanneld {
    <#
    .SYNOPSIS
        Starts real flanneld inside a testbed host against the testbed's etcd, logging to a file
        in the testbed's work directory; recorded on the testbed, so Remove-FlannelTestbed (or
        Stop-FlannelTestbedProcess) stops it by PID.
    .DESCRIPTION
        Runs flanneld -etcd-endpoints=<testbed etcd> -iface=eth0 -subnet-file=<host's own file>
        -ip-masq=false -healthz-port=0 plus -ArgumentList (e.g. '-public-ip=198.51.100.7').
        /run is shared by all namespaces, so every host gets its own subnet file. Wait for it
        with Wait-FlannelTestbedFlanneld.
    .OUTPUTS
        The process record of Start-FlannelTestbedProcess plus HostName, SubnetFile and Binary.
    .EXAMPLE
        $f = Start-FlannelTestbedFlanneld -Testbed $tb -HostName h2; $env2 = Wait-FlannelTestbedFlanneld $f
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)] [psobject] $Testbed,
        [Parameter(Mandatory)] [string] $HostName,
        [string[]] $ArgumentList = @(),
        [string] $SubnetFile,
        [string] $Binary = (Get-FlannelTestbedFlanneldBinary)
    )
    $h = $Testbed.Hosts | Where-Object Name -EQ $HostName
    if (-not $h) { throw "Testbed '$($Testbed.Name)' has no host '$HostName'." }
    if (-not $Binary) { throw (Get-FlannelTestbedFlanneldSkipReason) }
    if (-not $Testbed.EtcdEndpoint) { throw "Testbed '$($Testbed.Name)' has no etcd." }
    if (-not $SubnetFile) { $SubnetFile = $h.SubnetFile }
    $command = @($Binary, "-etcd-endpoints=$($Testbed.EtcdEndpoint)", "-iface=$($h.Interface)", "-subnet-file=$SubnetFile",
        '-ip-masq=false', '-healthz-port=0') + $ArgumentList
    # A subnet file left by an earlier run must not count as this flanneld's (it reads it for its
    # previous subnet, then rewrites it): Wait-FlannelTestbedFlanneld wants one written after now.
    $started = [DateTime]::UtcNow
    $p = Start-FlannelTestbedProcess -Testbed $Testbed -Namespace $h.Namespace -Name flanneld -Command $command
    $p | Add-Member -NotePropertyName HostName -NotePropertyValue $HostName
    $p | Add-Member -NotePropertyName SubnetFile -NotePropertyValue $SubnetFile
    $p | Add-Member -NotePropertyName Binary -NotePropertyValue $Binary
    $p | Add-Member -NotePropertyName StartedUtc -NotePropertyValue $started
    $p
}

function Wait-FlannelTestbedFlanneld {
    <#
    .SYNOPSIS
        Waits until a flanneld from Start-FlannelTestbedFlanneld has written a complete subnet.env
        and returns its values. Fails at once, with the log tail, when flanneld exits.
    .NOTES
        flanneld writes subnet.env after its backend is set up and before it starts watching
        leases, so a peer's routes may appear a moment later: wait for traffic, not for the file.
    #>
    [CmdletBinding()]
    [OutputType([System.Collections.Specialized.OrderedDictionary])]
    param(
        [Parameter(Mandatory, ValueFromPipeline)] [psobject] $Flanneld,
        [ValidateRange(1, 600)] [int] $TimeoutSeconds = 60
    )
    process {
        try {
            Wait-FlannelTestbedCondition -Description "flanneld in $($Flanneld.Namespace) to write $($Flanneld.SubnetFile)" -TimeoutSeconds $TimeoutSeconds -IntervalMilliseconds 200 -Condition {
                if (-not (Test-FlannelTestbedProcessAlive $Flanneld.Pid)) { throw 'flanneld exited' }
                if ((Test-Path -LiteralPath $Flanneld.SubnetFile) -and
                    [System.IO.File]::GetLastWriteTimeUtc($Flanneld.SubnetFile) -ge $Flanneld.StartedUtc) {
                    Get-FlannelTestbedSubnetEnv -Path $Flanneld.SubnetFile
                }
            }
        }
        catch {
            $tail = if (Test-Path -LiteralPath $Flanneld.LogFile) { (Get-Content -Tail 20 -LiteralPath $Flanneld.LogFile) -join "`n" } else { '(no log)' }
            throw "flanneld in $($Flanneld.Namespace) not running: $($_.Exception.Message)`nLog tail:`n$tail"
        }
    }
}

#endregion

function Invoke-FlannelTestbedEtcdctl {
    <#
    .SYNOPSIS
        Runs etcdctl (v3) against the testbed's etcd, inside the etcd namespace; returns its output.
    .EXAMPLE
        Invoke-FlannelTestbedEtcdctl -Testbed $tb put /coreos.com/network/config '{"Network":"10.0.0.0/16"}'
    .NOTES
        A simple function on purpose: etcdctl's own flags (-w json, --lease=...) pass through in $args
        instead of binding to PowerShell's common parameters.
    #>
    param([psobject] $Testbed)  # no [Parameter] attribute: that would make it advanced and drop $args
    if (-not $Testbed.EtcdLocalEndpoint) { throw "Invoke-FlannelTestbedEtcdctl needs -Testbed with an etcd." }
    Invoke-FlannelTestbedCommand -Testbed $Testbed -Namespace etcd -Command (@('etcdctl', "--endpoints=$($Testbed.EtcdLocalEndpoint)") + [string[]] $args)
}

# How to start another pwsh like this one: pwsh runs as a local dotnet tool (dotnet pwsh.dll).
function Get-FlannelTestbedPwshCommand {
    $exe = [Environment]::ProcessPath
    if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { return @($exe, (Join-Path $PSHOME 'pwsh.dll')) }
    @($exe)
}

#endregion

function Remove-FlannelTestbed {
    <#
    .SYNOPSIS
        Tears a testbed down: its processes, any process left in its namespaces, the namespaces
        (newest first) and its work directory. Safe to call twice and after a partial failure;
        problems become warnings so the rest of the teardown still runs.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline)] [AllowNull()] [psobject] $Testbed
    )
    process {
        if ($null -eq $Testbed) { return }
        for ($i = $Testbed.Processes.Count - 1; $i -ge 0; $i--) {
            try { Stop-FlannelTestbedProcess -Process $Testbed.Processes[$i] }
            catch { Write-Warning "Stopping pid $($Testbed.Processes[$i].Pid): $($_.Exception.Message)" }
        }
        for ($i = $Testbed.Namespaces.Count - 1; $i -ge 0; $i--) {
            $ns = $Testbed.Namespaces[$i]
            try {
                if (-not (Test-TbNamespaceExists $ns)) { continue }
                # Whatever still runs in one of our namespaces was started by a testbed user.
                $pids = (Invoke-TbProcess -FilePath 'ip' -ArgumentList 'netns', 'pids', $ns).Output -split '\s+' | Where-Object { $_ }
                foreach ($p in $pids) { $null = Invoke-TbProcess -FilePath 'kill' -ArgumentList '-KILL', $p }
                $r = Invoke-TbProcess -FilePath 'ip' -ArgumentList 'netns', 'del', $ns
                if ($r.ExitCode -ne 0) { Write-Warning "ip netns del $ns failed: $($r.Error.Trim())" }
            }
            catch { Write-Warning "Removing namespace ${ns}: $($_.Exception.Message)" }
        }
        if ($Testbed.WorkDir -and (Test-Path -LiteralPath $Testbed.WorkDir)) {
            try { Remove-Item -LiteralPath $Testbed.WorkDir -Recurse -Force }
            catch { Write-Warning "Removing $($Testbed.WorkDir): $($_.Exception.Message)" }
        }
        $Testbed.Removed = $true
    }
}

Export-ModuleMember -Function New-FlannelTestbed, Invoke-FlannelTestbedEtcdctl, Add-FlannelTestbedContainer, Remove-FlannelTestbed,
    Invoke-FlannelTestbedCommand, Start-FlannelTestbedProcess, Stop-FlannelTestbedProcess,
    Wait-FlannelTestbedCondition, Get-FlannelTestbedSubnetEnv, Start-FlannelTestbedNode, Wait-FlannelTestbedNode,
    Test-FlannelTestbedProcessAlive, Get-FlannelTestbedPwshCommand, Start-FlannelTestbedCapture, Wait-FlannelTestbedCapture,
    Get-FlannelTestbedFlanneldBinary, Get-FlannelTestbedFlanneldSkipReason, Start-FlannelTestbedFlanneld, Wait-FlannelTestbedFlanneld
