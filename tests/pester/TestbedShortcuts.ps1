# Shortcuts the testbed suites share, dot-sourced in their BeforeAll. Each works on the suite's own
# $tb (the testbed of the Describe that is running), read when the shortcut is called.

function Invoke-Tb([string] $Namespace, [string[]] $Command, [int] $TimeoutSeconds = 30) {
    Invoke-FlannelTestbedCommand -Testbed $tb -Namespace $Namespace -Command $Command -TimeoutSeconds $TimeoutSeconds -PassThru
}

function Invoke-TbEtcdctl([string[]] $Arguments) {
    (Invoke-FlannelTestbedEtcdctl -Testbed $tb @Arguments).TrimEnd("`n")
}

# Bounded ping: -c packets of -s bytes, 1 s wait each. Returns {ExitCode, Output, Error}.
function Invoke-Ping([string] $From, [string] $To, [int] $Count = 3, [int] $Size = 56) {
    Invoke-Tb $From @('ping', '-n', '-c', "$Count", '-s', "$Size", '-i', '0.2', '-W', '1', $To) -TimeoutSeconds ($Count + 10)
}

# The overlay learns new leases through an etcd watch: give it a bounded time to carry traffic.
function Wait-Ping([string] $From, [string] $To, [int] $TimeoutSeconds = 45) {
    Wait-FlannelTestbedCondition -Description "ping $From -> $To" -TimeoutSeconds $TimeoutSeconds -IntervalMilliseconds 200 -Condition {
        (Invoke-Ping $From $To 1).ExitCode -eq 0
    } | Out-Null
}

function Get-Container([string] $HostName) { ($tb.Hosts | Where-Object Name -EQ $HostName).Containers[0] }

# FLANNEL_SUBNET is the lease's first address: 10.0.7.1/24 -> the lease 10.0.7.0/24.
function Get-LeaseSubnet($SubnetEnv) {
    $ip, $len = $SubnetEnv.FLANNEL_SUBNET -split '/'
    $b = [Net.IPAddress]::Parse($ip).GetAddressBytes()
    $b[3] = $b[3] - 1
    "$([Net.IPAddress]::new($b))/$len"
}

# SIGTERM only (no SIGKILL unless it is still running after the timeout); $true when it stopped by itself.
function Stop-Gracefully($Process, [int] $TimeoutSeconds = 15) {
    & kill -TERM $Process.Pid 2>$null
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        if (-not (Test-FlannelTestbedProcessAlive $Process.Pid)) { return $true }
        Start-Sleep -Milliseconds 100
    }
    Stop-FlannelTestbedProcess -Process $Process
    $false
}
