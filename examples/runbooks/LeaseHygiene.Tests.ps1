# Runbook: the state of the leases in etcd, for the whole cluster, from any host that reaches etcd.
# No expired leases, one lease per PublicIP, every lease inside the config's range and length, no
# overlaps, subnets left to hand out, and the reservations you expect.
#   Invoke-Pester -Container (New-PesterContainer -Path LeaseHygiene.Tests.ps1 -Data @{
#       EtcdEndpoint = 'http://10.1.0.5:2379'; EtcdPrefix = '/coreos.com/network'; ExpectedReservation = '10.0.9.0/24' })
param(
    # etcd endpoints (default: FLANNELD_ETCD_ENDPOINTS, else http://127.0.0.1:2379).
    [string[]] $EtcdEndpoint,
    # Network key prefix (default: FLANNELD_ETCD_PREFIX, else /coreos.com/network).
    [string] $EtcdPrefix,
    # Subnets that must exist as reservations (keys with no TTL), e.g. '10.0.9.0/24'.
    [string[]] $ExpectedReservation = @(),
    # Fail when fewer subnets than this are still free.
    [int] $MinFreeSubnets = 1,
    # Module name or path to import.
    [string] $Module = 'FlannelPS'
)

BeforeDiscovery {
    Import-Module $Module
    $etcd = @{}
    if ($EtcdEndpoint) { $etcd.EtcdEndpoint = $EtcdEndpoint }
    if ($EtcdPrefix) { $etcd.EtcdPrefix = $EtcdPrefix }
    # One test group per lease; if etcd cannot be read the config test below reports why.
    $leases = @(Get-FlannelSubnetLease @etcd -ErrorAction SilentlyContinue | ForEach-Object {
            @{ Subnet = $_.Subnet; PublicIP = $_.PublicIP; Expiration = $_.Expiration; IsReservation = $_.IsReservation; Key = $_.Key }
        })
    $reservations = @($leases | Where-Object IsReservation)
}

BeforeAll {
    Import-Module $Module
    $script:etcd = @{}
    if ($EtcdEndpoint) { $etcd.EtcdEndpoint = $EtcdEndpoint }
    if ($EtcdPrefix) { $etcd.EtcdPrefix = $EtcdPrefix }
    $script:config = $null
    $script:configError = $null
    try { $script:config = Get-FlannelNetworkConfig @etcd -ErrorAction Stop } catch { $script:configError = $_.Exception.Message }
    $script:all = @(Get-FlannelSubnetLease @etcd -ErrorAction SilentlyContinue)

    function ConvertTo-UInt32([string] $Address) {
        $b = [System.Net.IPAddress]::Parse($Address).GetAddressBytes()
        ([uint32]$b[0] -shl 24) -bor ([uint32]$b[1] -shl 16) -bor ([uint32]$b[2] -shl 8) -bor [uint32]$b[3]
    }
    function Split-Cidr([string] $Cidr) {
        $ip, $len = $Cidr -split '/'
        $size = [uint64]1 -shl (32 - [int]$len)
        [pscustomobject]@{ Start = [uint64](ConvertTo-UInt32 $ip); End = [uint64](ConvertTo-UInt32 $ip) + $size - 1; Length = [int]$len }
    }
}

Describe 'Lease hygiene' {
    It 'has a valid network config' {
        $configError | Should -BeNullOrEmpty
        $config.Network | Should -Not -BeNullOrEmpty
    }

    It 'has at least <MinFreeSubnets> free subnet(s) left' -TestCases @{ MinFreeSubnets = $MinFreeSubnets } {
        if (-not $config) { Set-ItResult -Skipped -Because 'the config could not be read' }
        $min = ConvertTo-UInt32 $config.SubnetMin; $max = ConvertTo-UInt32 $config.SubnetMax
        $used = @($all | Where-Object { $s = Split-Cidr $_.Subnet; $s.Length -eq $config.SubnetLen -and $s.Start -ge $min -and $s.Start -le $max }).Count
        ($config.SubnetCount - $used) | Should -BeGreaterOrEqual $MinFreeSubnets -Because "$used of $($config.SubnetCount) subnets are leased"
    }

    Context 'Lease <Subnet> of <PublicIP>' -ForEach $leases {
        It 'has not expired' {
            if ($IsReservation) { Set-ItResult -Skipped -Because 'it is a reservation (no TTL)' }
            $Expiration | Should -BeGreaterThan ([DateTimeOffset]::UtcNow) -Because "$Key expired at $Expiration"
        }

        It 'is the only lease of its PublicIP' {
            $others = @($all | Where-Object { $_.PublicIP -eq $PublicIP -and $_.Subnet -ne $Subnet } | ForEach-Object Subnet)
            $others | Should -BeNullOrEmpty -Because "$PublicIP also holds $($others -join ', '): two nodes share an address, or a node's old lease was left behind"
        }

        It 'fits SubnetLen and SubnetMin..SubnetMax' {
            if (-not $config) { Set-ItResult -Skipped -Because 'the config could not be read' }
            $s = Split-Cidr $Subnet
            $s.Length | Should -Be $config.SubnetLen -Because "$Subnet must be a /$($config.SubnetLen)"
            $s.Start | Should -BeGreaterOrEqual (ConvertTo-UInt32 $config.SubnetMin) -Because "$Subnet is below SubnetMin $($config.SubnetMin)"
            $s.Start | Should -BeLessOrEqual (ConvertTo-UInt32 $config.SubnetMax) -Because "$Subnet is above SubnetMax $($config.SubnetMax)"
        }

        It 'overlaps no other lease' {
            $me = Split-Cidr $Subnet
            $overlaps = @($all | Where-Object { $_.Subnet -ne $Subnet } | Where-Object { $o = Split-Cidr $_.Subnet; $o.Start -le $me.End -and $me.Start -le $o.End } | ForEach-Object Subnet)
            $overlaps | Should -BeNullOrEmpty -Because "$Subnet overlaps $($overlaps -join ', ')"
        }
    }

    Context 'Reservations' {
        It 'lists reservation <Subnet> of <PublicIP>' -ForEach $reservations {
            # Listed for the record; validity is covered by the lease tests above.
            $Key | Should -Not -BeNullOrEmpty
        }

        It 'has the expected reservation <_>' -ForEach $ExpectedReservation {
            $r = $all | Where-Object Subnet -EQ $_
            $r | Should -Not -BeNullOrEmpty -Because "no key for $_ exists"
            $r.IsReservation | Should -BeTrue -Because "$_ exists but has a TTL: it will expire"
        }
    }
}
