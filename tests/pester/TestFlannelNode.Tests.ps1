# Test-FlannelNode against real nodes: a two-host namespace testbed, FlannelPS udp nodes in h1 and
# h2, and Test-FlannelNode run inside h1 (a child pwsh under `ip netns exec`). Healthy → every
# check passes; then one thing at a time is broken in h1's kernel, iptables or subnet.env and the
# check that owns it must fail naming the value. The nodes run with a 1 h iptables resync so a
# deleted rule stays deleted while we look.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    $script:RunId = if ($env:FLANNELPS_TEST_RUNID) { $env:FLANNELPS_TEST_RUNID } else { $PID }
    $script:Module = $env:FLANNELPS_MODULE
    $script:Pwsh = Get-FlannelTestbedPwshCommand
    $script:tb = $null
    $script:tb = New-FlannelTestbed -Name "fpop-$RunId-tn" -HostCount 2
    $script:Ep = $tb.EtcdEndpoint
    $script:H1 = $tb.Hosts[0]
    $script:H2 = $tb.Hosts[1]
    Invoke-FlannelTestbedEtcdctl -Testbed $tb put /coreos.com/network/config '{"Network":"10.0.0.0/16"}' | Out-Null
    # A long resync so a rule the tests delete stays deleted while they look.
    $started = foreach ($h in $tb.Hosts) { Start-FlannelTestbedNode -Testbed $tb -HostName $h.Name -Module $Module -ArgumentList '-IptablesResyncSec 3600' }
    $null = $started | Wait-FlannelTestbedNode
    function Get-Subnet($h) { ((Get-Content $h.SubnetFile | Where-Object { $_ -like 'FLANNEL_SUBNET=*' }) -replace '^FLANNEL_SUBNET=', '') -replace '\.1/24$', '.0/24' }
    $script:S1 = Get-Subnet $H1
    $script:S2 = Get-Subnet $H2
    # Both datapaths know each other once h1's flannel0 address answers from h2 (bounded).
    $null = Wait-FlannelTestbedCondition -Description 'overlay h2 -> h1' -TimeoutSeconds 30 -IntervalMilliseconds 500 -Condition {
        (Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h2 -PassThru -Command 'ping', '-c', '1', '-W', '1', ($S1 -replace '/24$', '')).ExitCode -eq 0
    }

    # Runs $Body in a fresh pwsh inside host h1 with FlannelPS loaded; returns its output from JSON.
    function Invoke-InH1([string] $Body) {
        $script = "`$ErrorActionPreference = 'Stop'; Import-Module '$Module'; `$common = @{ EtcdEndpoint = '$Ep'; SubnetFile = '$($H1.SubnetFile)' }; & { $Body } | ConvertTo-Json -Depth 4 -AsArray -Compress"
        $r = Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -PassThru -TimeoutSeconds 120 -Command (@($Pwsh) + @('-NoProfile', '-NonInteractive', '-c', $script))
        if ($r.ExitCode -ne 0) { throw "child pwsh failed ($($r.ExitCode)): $($r.Error) $($r.Output)" }
        $r.Output | ConvertFrom-Json -NoEnumerate | ForEach-Object { $_ }
    }
    function Get-Failed($checks) { @($checks | Where-Object Status -EQ 'Fail') }
    function H1 { Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -Command $args }
}

AfterAll {
    Remove-FlannelTestbed -Testbed $tb
}

Describe 'Test-FlannelNode on a healthy udp node' {
    BeforeAll {
        $script:checks = Invoke-InH1 'Test-FlannelNode @common -Ping'
        $script:quiet = Invoke-InH1 'Test-FlannelNode @common -Quiet'
    }

    It 'passes every check, with one route and one echo per peer' {
        $notPassed = @($checks | Where-Object { $_.Status -ne 'Pass' -and $_.Name -ne 'IptablesMasquerade' })
        $notPassed | ForEach-Object { "$($_.Name) $($_.Status): $($_.Message)" } | Should -BeNullOrEmpty
        ($checks | Where-Object Name -EQ 'IptablesMasquerade').Status | Should -Be 'Skip' -Because 'the nodes run without -IpMasq'
        ($checks | Where-Object Name -EQ 'PeerRoute').Target | Should -Be $S2
        ($checks | Where-Object Name -EQ 'PeerReachable').Target | Should -Be $S2
        ($checks | Where-Object Name -EQ 'Lease').Message | Should -BeLike "*held by 192.0.2.11, an address of this host*"
        ($checks | Where-Object Name -EQ 'DeviceMtu').Message | Should -BeLike '*1472 = FLANNEL_MTU = eth0 MTU 1500 − 28*'
    }

    It 'answers -Quiet with a single $true' {
        @($quiet).Count | Should -Be 1
        $quiet | Should -BeTrue
    }
}

Describe 'Test-FlannelNode when h1 is broken' {
    It 'fails IptablesForward naming a deleted rule and DeviceMtu naming a wrong MTU, and nothing else; -Quiet says $false' {
        H1 iptables -w 5 -D FLANNEL-FWD -d 10.0.0.0/16 -m comment --comment 'flanneld forward' -j ACCEPT | Out-Null
        H1 ip link set dev flannel0 mtu 1400 | Out-Null
        try {
            $out = Invoke-InH1 '[pscustomobject]@{ Checks = @(Test-FlannelNode @common); Quiet = Test-FlannelNode @common -Quiet }'
        }
        finally {
            H1 iptables -w 5 -A FLANNEL-FWD -d 10.0.0.0/16 -m comment --comment 'flanneld forward' -j ACCEPT | Out-Null
            H1 ip link set dev flannel0 mtu 1472 | Out-Null
        }
        $failed = Get-Failed $out.Checks
        $failed.Name | Sort-Object | Should -Be 'DeviceMtu', 'IptablesForward'
        ($failed | Where-Object Name -EQ 'IptablesForward').Message |
            Should -BeLike '*Missing 1 of 3 rules: -t filter -A FLANNEL-FWD -d 10.0.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT*'
        ($failed | Where-Object Name -EQ 'DeviceMtu').Message | Should -BeLike '*flannel0 MTU is 1400 but subnet.env FLANNEL_MTU=1472*'
        $out.Quiet | Should -BeFalse
    }

    It 'fails PeerRoute and PeerReachable for a peer whose subnet is blackholed' {
        H1 ip route add blackhole $S2 | Out-Null
        try { $checks = Invoke-InH1 'Test-FlannelNode @common -Ping -PingCount 2' }
        finally { H1 ip route del blackhole $S2 | Out-Null }
        $failed = Get-Failed $checks
        $failed.Name | Should -Be 'PeerRoute', 'PeerReachable'
        $failed.Target | Should -Be $S2, $S2
        $failed[0].Message | Should -BeLike "*Peer $S2 (192.0.2.12): routed by 'blackhole $S2'*"
        $failed[1].Message | Should -BeLike "*did not answer 2 echo request(s)*"
    }

    It 'fails NetworkRoute and the peer route when the overlay route is deleted' {
        H1 ip route del 10.0.0.0/16 dev flannel0 | Out-Null
        try { $checks = Invoke-InH1 'Test-FlannelNode @common' }
        finally { H1 ip route add 10.0.0.0/16 dev flannel0 | Out-Null }
        $failed = Get-Failed $checks
        $failed.Name | Should -Be 'NetworkRoute', 'PeerRoute'
        $failed[0].Message | Should -BeLike '*Route 10.0.0.0/16 dev flannel0 is missing*'
        $failed[1].Message | Should -BeLike "*routed by 'default via 192.0.2.1 dev eth0', expected dev flannel0*"
    }

    It 'fails Lease when subnet.env names a subnet nobody leases' {
        $original = Get-Content -Raw $H1.SubnetFile
        Set-Content -NoNewline -Path $H1.SubnetFile -Value ($original -replace 'FLANNEL_SUBNET=\S+', 'FLANNEL_SUBNET=10.0.250.1/24')
        try { $checks = Invoke-InH1 'Test-FlannelNode @common' }
        finally { Set-Content -NoNewline -Path $H1.SubnetFile -Value $original }
        $lease = $checks | Where-Object Name -EQ 'Lease'
        $lease.Status | Should -Be 'Fail'
        $lease.Message | Should -BeLike '*No lease for FLANNEL_SUBNET 10.0.250.1/24 (10.0.250.0/24) in etcd*'
        $lease.Target | Should -Be '/coreos.com/network/subnets/10.0.250.0-24'
        ($checks | Where-Object Name -EQ 'DeviceAddress').Message | Should -BeLike '*expected 10.0.250.0/32*'
    }

    It 'is healthy again once everything is restored' {
        Get-Failed (Invoke-InH1 'Test-FlannelNode @common') | ForEach-Object { "$($_.Name): $($_.Message)" } | Should -BeNullOrEmpty
    }
}
