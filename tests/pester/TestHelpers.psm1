# Shared helpers for the Pester ring: the test etcd, etcdctl, unique prefixes, and the guard that
# keeps node tests out of the root network namespace.

function Get-TestEtcdEndpoint {
    if (-not $env:FLANNELPS_TEST_ETCD) {
        throw 'FLANNELPS_TEST_ETCD is not set: run the suite with tests/run.sh, which starts etcd in a test namespace.'
    }
    $env:FLANNELPS_TEST_ETCD
}

function New-TestPrefix([string] $Name = 'pester') {
    "/test/$Name-$([guid]::NewGuid().ToString('n').Substring(0, 12))/network"
}

function Invoke-Etcdctl {
    # A simple function (no param block) so etcdctl flags like -w are passed through untouched.
    $out = & etcdctl "--endpoints=$(Get-TestEtcdEndpoint)" @args 2>&1
    if ($LASTEXITCODE -ne 0) { throw "etcdctl $($args -join ' ') failed: $out" }
    $out
}

function Get-EtcdValue([string] $Key) {
    $lines = @(Invoke-Etcdctl get $Key --print-value-only)
    if ($lines.Count -eq 0 -or ($lines.Count -eq 1 -and $lines[0] -eq '')) { return $null }
    $lines -join "`n"
}

function Get-EtcdLeaseTtl([string] $Key) {
    # Returns the granted TTL of the etcd lease attached to $Key (0 when none).
    $json = Invoke-Etcdctl get $Key -w json | ConvertFrom-Json
    $leaseId = $json.kvs[0].lease
    if (-not $leaseId) { return 0 }
    $hex = '{0:x}' -f [long]$leaseId
    $ttl = Invoke-Etcdctl lease timetolive $hex
    if ("$ttl" -match 'granted with TTL\((\d+)s\)') { return [int]$Matches[1] }
    throw "unexpected timetolive output: $ttl"
}

function Assert-TestNamespace {
    # Node tests touch routes and iptables: refuse to run them in the root network namespace.
    $self = (Get-Item /proc/self/ns/net).Target
    $init = (Get-Item /proc/1/ns/net -ErrorAction SilentlyContinue).Target
    if ($init -and $self -eq $init) {
        throw 'These tests must run inside a test network namespace (use tests/run.sh), never in the root namespace.'
    }
}

function New-TestUnderlay {
    # A veth pair (both ends in this test namespace) carrying underlay addresses from 192.0.2.0/24,
    # so nodes have a real interface to select. Returns the interface name; remove with Remove-TestUnderlay.
    # -Name is cut to 11 characters, so the peer's name ("<name>-p") still fits the kernel's 15.
    param([string] $Name, [string[]] $Address)
    Assert-TestNamespace
    $Name = $Name.Substring(0, [Math]::Min(11, $Name.Length))
    & ip link add $Name type veth peer name "$Name-p" | Out-Null
    foreach ($a in $Address) { & ip addr add $a dev $Name | Out-Null }
    & ip link set $Name up | Out-Null
    & ip link set "$Name-p" up | Out-Null
    $Name
}

function Remove-TestUnderlay([string] $Name) {
    & ip link del $Name 2>$null | Out-Null
}

function Wait-Until {
    param([scriptblock] $Condition, [double] $TimeoutSec = 10, [string] $Because = 'condition')
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ([DateTime]::UtcNow -lt $deadline) {
        $r = & $Condition
        if ($r) { return $r }
        Start-Sleep -Milliseconds 100
    }
    throw "Timed out after $TimeoutSec s waiting for $Because"
}

Export-ModuleMember -Function *
