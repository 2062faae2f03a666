# The multi-host testbed itself (tests/testbed): if it is wrong, every end-to-end test and the
# benchmark measure the wrong thing. Builds real namespaces; needs root.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
    $script:RunId = if ($env:FLANNELPS_TEST_RUNID) { $env:FLANNELPS_TEST_RUNID } else { $PID }
    $script:TestbedSh = (Resolve-Path (Join-Path $PSScriptRoot '../testbed/testbed.sh')).Path

    function Get-TestNamespaces([string] $Prefix) {
        @(ip netns list 2>$null | ForEach-Object { ($_ -split ' ', 2)[0] } | Where-Object { $_.StartsWith("$Prefix-", [StringComparison]::Ordinal) })
    }

    # A testbed's topology as comparable text: per namespace (minus the testbed name) each
    # interface with MTU and IPv4 address, and each route. A script file, so the bash-built
    # testbed can be dumped from inside the bash process that owns it.
    $script:DumpScript = Join-Path ([IO.Path]::GetTempPath()) "fptb-dump-$PID.sh"
    Set-Content -Path $DumpScript -Value @'
#!/usr/bin/env bash
name=$1
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -F -- "$name-"); do
  s=${ns#"$name"-}
  ip -n "$ns" -o link show | awk -v s="$s" '{n=$2; sub(/@.*/, "", n); sub(/:$/, "", n); for (i = 1; i < NF; i++) if ($i == "mtu") m = $(i+1); print s, "link", n, "mtu", m}'
  ip -n "$ns" -o -4 addr show | awk -v s="$s" '{print s, "addr", $2, $4}'
  ip -n "$ns" -4 route show | sed "s/^/$s route /; s/ linkdown//; s/ *$//"
done | sort
'@
    chmod +x $DumpScript

    function Get-TopologyDump([string] $Name) {
        $out = & $DumpScript $Name
        if ($LASTEXITCODE -ne 0) { throw "topology dump failed" }
        $out
    }
}

AfterAll {
    Remove-Item -LiteralPath $DumpScript -ErrorAction SilentlyContinue
}

Describe 'New-FlannelTestbed with two hosts' {
    BeforeAll {
        $script:Name = "fptb-$RunId-p"
        $script:tb = $null
        $script:tb = New-FlannelTestbed -Name $Name -HostCount 2
        $script:c1 = Add-FlannelTestbedContainer -Testbed $tb -HostName h1 -Subnet 10.0.5.1/24 -Mtu 1472 -Count 2
        $script:c2 = Add-FlannelTestbedContainer -Testbed $tb -HostName h2 -Subnet 10.0.9.1/24 -Mtu 1472
    }
    AfterAll {
        Remove-FlannelTestbed -Testbed $tb
    }

    It 'creates exactly the documented namespaces and records them' {
        $expected = 'ul', 'h1', 'h2', 'etcd', 'h1-c1', 'h1-c2', 'h2-c1' | ForEach-Object { "$Name-$_" }
        Get-TestNamespaces $Name | Sort-Object | Should -Be ($expected | Sort-Object)
        $tb.Namespaces | Sort-Object | Should -Be ($expected | Sort-Object)
    }

    It 'gives host <_> its underlay address, MTU 1500 and a default route via the underlay bridge' -ForEach 1, 2 {
        $ns = "$Name-h$_"
        $addr = ip -n $ns -j addr show dev eth0 | ConvertFrom-Json
        $addr.mtu | Should -Be 1500
        ($addr.addr_info | Where-Object family -EQ inet).local | Should -Be "192.0.2.$(10 + $_)"
        ($addr.addr_info | Where-Object family -EQ inet).prefixlen | Should -Be 24
        $route = ip -n $ns -j route show default | ConvertFrom-Json
        $route.gateway | Should -Be '192.0.2.1'
        $route.dev | Should -Be 'eth0'
        ($tb.Hosts | Where-Object Name -EQ "h$_").Address | Should -Be "192.0.2.$(10 + $_)"
    }

    It 'lets the hosts ping each other over the underlay' {
        Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -Command 'ping', '-c', '2', '-i', '0.2', '-W', '2', '192.0.2.12' |
            Should -Match '2 received'
        Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h2 -Command 'ping', '-c', '2', '-i', '0.2', '-W', '2', '192.0.2.11' |
            Should -Match '2 received'
    }

    It 'serves etcd on 192.0.2.2:2379 to every host namespace' {
        $tb.EtcdEndpoint | Should -Be 'http://192.0.2.2:2379'
        $key = "/testbed/$RunId/probe"
        Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -Command 'etcdctl', "--endpoints=$($tb.EtcdEndpoint)", 'put', $key, 'from-h1' |
            Should -Match 'OK'
        Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h2 -Command 'etcdctl', "--endpoints=$($tb.EtcdEndpoint)", 'get', '--print-value-only', $key |
            Should -Be "from-h1`n"
    }

    It 'addresses containers from the bridge subnet with the given MTU and a default route via the bridge' {
        ($c1 | ForEach-Object Address) | Should -Be '10.0.5.2', '10.0.5.3'
        ($c2 | ForEach-Object Address) | Should -Be '10.0.9.2'
        $eth = ip -n "$Name-h1-c2" -j addr show dev eth0 | ConvertFrom-Json
        $eth.mtu | Should -Be 1472
        ($eth.addr_info | Where-Object family -EQ inet).local | Should -Be '10.0.5.3'
        (ip -n "$Name-h1-c2" -j route show default | ConvertFrom-Json).gateway | Should -Be '10.0.5.1'
        $bridge = ip -n "$Name-h1" -j addr show dev docker0 | ConvertFrom-Json
        ($bridge.addr_info | Where-Object family -EQ inet).local | Should -Be '10.0.5.1'
        Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -Command 'sysctl -n net.ipv4.ip_forward' | Should -Be "1`n"
    }

    It 'lets container <_> ping its bridge' -ForEach @(
        @{ Ns = 'h1-c1'; Gw = '10.0.5.1' }, @{ Ns = 'h1-c2'; Gw = '10.0.5.1' }, @{ Ns = 'h2-c1'; Gw = '10.0.9.1' }) {
        Invoke-FlannelTestbedCommand -Testbed $tb -Namespace $Ns -Command 'ping', '-c', '1', '-W', '2', $Gw | Should -Match '1 received'
    }

    It 'does not connect containers across hosts by itself (that is the overlay''s job)' {
        $r = Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1-c1 -Command 'ping', '-c', '1', '-W', '1', '10.0.9.2' -PassThru
        $r.ExitCode | Should -Not -Be 0
    }

    It 'runs a background process in a namespace with a log file and stops it' {
        $p = Start-FlannelTestbedProcess -Testbed $tb -Namespace h2 -Name probe -Command 'sh', '-c', 'ip -o -4 addr show dev eth0; exec sleep 60'
        $tb.Processes | Should -Contain $p
        $null = Wait-FlannelTestbedCondition -Description 'probe output' -TimeoutSeconds 10 -Condition {
            (Test-Path $p.LogFile) -and (Get-Content -Raw $p.LogFile) -match '192\.0\.2\.12/24'
        }
        ip netns pids "$Name-h2" | Should -Contain "$($p.Pid)"
        Stop-FlannelTestbedProcess -Process $p
        Test-FlannelTestbedProcessAlive $p.Pid | Should -BeFalse
    }

    It 'builds the same topology as the bash twin testbed.sh' {
        $bashName = "fptb-$RunId-q"
        $build = @'
set -u
source "$1"
trap tb_destroy_all EXIT
tb_new "$2" 2 etcd || exit 1
tb_add_containers "$2" 1 10.0.5.1/24 1472 2 >/dev/null || exit 1
tb_add_containers "$2" 2 10.0.9.1/24 1472 >/dev/null || exit 1
ip netns list 2>/dev/null | awk '{print $1}' | grep -cF -- "$2-"
"$3" "$2"
'@
        $bashOut = bash -c $build 'build' $TestbedSh $bashName $DumpScript
        $LASTEXITCODE | Should -Be 0
        Get-TestNamespaces $bashName | Should -BeNullOrEmpty -Because 'the bash trap tears its testbed down'
        $bashOut[0] | Should -Be '7'
        $psDump = Get-TopologyDump $Name
        $psDump.Count | Should -BeGreaterThan 30
        ($bashOut | Select-Object -Skip 1) -join "`n" | Should -BeExactly ($psDump -join "`n")
    }

    It 'tears everything down, and a second Remove-FlannelTestbed is harmless' {
        $etcdPid = $tb.EtcdProcess.Pid
        Test-FlannelTestbedProcessAlive $etcdPid | Should -BeTrue
        Remove-FlannelTestbed -Testbed $tb
        Get-TestNamespaces $Name | Should -BeNullOrEmpty
        Test-FlannelTestbedProcessAlive $etcdPid | Should -BeFalse
        Test-Path $tb.WorkDir | Should -BeFalse
        $tb.Removed | Should -BeTrue
        { Remove-FlannelTestbed -Testbed $tb -WarningAction Stop } | Should -Not -Throw
    }
}

Describe 'New-FlannelTestbed after a partial failure' {
    BeforeAll {
        $script:Name = "fptb-$RunId-f"
        # Somebody else's namespace, named like our second host: building must fail there.
        ip netns add "$Name-h2"
    }
    AfterAll {
        ip netns del "$Name-h2" 2>$null
    }

    It 'removes what it built, rethrows, and leaves namespaces it did not create alone' {
        { New-FlannelTestbed -Name $Name -HostCount 3 -NoEtcd } | Should -Throw '*netns add*'
        Get-TestNamespaces $Name | Should -Be @("$Name-h2")
        @(Get-ChildItem /tmp -Filter "$Name.*" -Directory -ErrorAction SilentlyContinue) | Should -BeNullOrEmpty
    }

    It 'refuses a name whose underlay namespace already exists' {
        ip netns add "$Name-ul"
        try {
            { New-FlannelTestbed -Name $Name -HostCount 1 -NoEtcd } | Should -Throw '*already exists*'
            Get-TestNamespaces $Name | Sort-Object | Should -Be @("$Name-h2", "$Name-ul")
        }
        finally { ip netns del "$Name-ul" }
    }
}

Describe 'New-FlannelTestbed -ContainersPerHost' {
    It 'adds containers on 10.0.<host>.1/24 by default and still cleans up' {
        $name = "fptb-$RunId-k"
        $t = New-FlannelTestbed -Name $name -HostCount 2 -ContainersPerHost 1 -NoEtcd
        try {
            ($t.Containers | ForEach-Object Address) | Should -Be '10.0.1.2', '10.0.2.2'
            $t.EtcdEndpoint | Should -BeNullOrEmpty
            Invoke-FlannelTestbedCommand -Testbed $t -Namespace h2-c1 -Command 'ping', '-c', '1', '-W', '2', '10.0.2.1' | Should -Match '1 received'
        }
        finally { Remove-FlannelTestbed -Testbed $t }
        Get-TestNamespaces $name | Should -BeNullOrEmpty
    }
}

# The benchmark's reference forwarder (bench/datapath/udpfwd.c) must behave like flannel's udp
# proxy, or the bench compares FlannelPS against the wrong thing. Also the testbed's end-to-end use.
Describe 'The benchmark C forwarder on the testbed' {
    BeforeAll {
        $script:Name = "fptb-$RunId-u"
        $script:t = $null
        $script:t = New-FlannelTestbed -Name $Name -HostCount 2 -NoEtcd
        $script:Fwd = Join-Path $t.WorkDir 'udpfwd'
        gcc -O2 -Wall -Wextra -Werror -o $Fwd (Join-Path $PSScriptRoot '../../bench/datapath/udpfwd.c')
        if ($LASTEXITCODE -ne 0) { throw 'udpfwd does not compile' }
        $script:Forwarders = foreach ($i in 1, 2) {
            $peer = 3 - $i
            $p = Start-FlannelTestbedProcess -Testbed $t -Namespace "h$i" -Name udpfwd -Command @(
                $Fwd, '-i', 'flannel0', '-b', "192.0.2.1$i", '-s', "10.0.$(4 * $i + 1).0", "10.0.$(4 * $peer + 1).0/24=192.0.2.1$peer")
            $null = Wait-FlannelTestbedCondition -Description "udpfwd on h$i" -TimeoutSeconds 10 -Condition {
                (Test-Path $p.LogFile) -and (Get-Content -Raw $p.LogFile) -match 'ready flannel0'
            }
            Invoke-FlannelTestbedCommand -Testbed $t -Namespace "h$i" -Command (
                "ip addr add 10.0.$(4 * $i + 1).0/32 dev flannel0 && ip link set flannel0 mtu 1472 up && ip route add 10.0.0.0/16 dev flannel0") | Out-Null
            $null = Add-FlannelTestbedContainer -Testbed $t -HostName "h$i" -Subnet "10.0.$(4 * $i + 1).1/24" -Mtu 1472
            $p
        }
    }
    AfterAll {
        Remove-FlannelTestbed -Testbed $t
    }

    It 'carries container traffic across hosts, losing 4 from the TTL like flannel udp (ttl 60)' {
        Invoke-FlannelTestbedCommand -Testbed $t -Namespace h1-c1 -Command 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.0.9.2' |
            Should -Match '(?s)ttl=60 .*3 received'
    }

    It 'puts the inner packet unchanged in a UDP datagram between the hosts'' port 8285' {
        $cap = Start-FlannelTestbedCapture -Testbed $t -Namespace h2 -Arguments '-i', 'eth0', '-l', '-c', '1', 'udp and src host 192.0.2.11 and dst port 8285'
        Invoke-FlannelTestbedCommand -Testbed $t -Namespace h1-c1 -Command 'ping', '-c', '1', '-W', '2', '10.0.9.2' | Out-Null
        Wait-FlannelTestbedCapture -Capture $cap -Description 'a captured datagram' | Should -Match '192\.0\.2\.11\.8285 > 192\.0\.2\.12\.8285: UDP, length 84'
    }

    It 'answers a destination without a route with ICMP net unreachable into the TUN' {
        $cap = Start-FlannelTestbedCapture -Testbed $t -Namespace h1 -Name tcpdump-tun -Arguments '-i', 'flannel0', '-l', '-c', '1', 'icmp[icmptype] == 3'
        # Within the flannel network (routed to flannel0) but no forwarder route: UDP, so the
        # error is not suppressed as an answer to ICMP.
        Invoke-FlannelTestbedCommand -Testbed $t -Namespace h1-c1 -Command 'bash', '-c', 'echo x > /dev/udp/10.0.77.2/9' -TimeoutSeconds 10 | Out-Null
        Wait-FlannelTestbedCapture -Capture $cap -Description 'the ICMP error' | Should -Match '10\.0\.5\.0 > 10\.0\.5\.2: ICMP net 10\.0\.77\.2 unreachable'
    }
}

Describe 'Finding real flanneld for the interop tests' {
    BeforeAll { $script:SavedFlanneld = $env:FLANNELD_BINARY }
    AfterAll { $env:FLANNELD_BINARY = $script:SavedFlanneld }

    It 'reports a FLANNELD_BINARY that does not exist as the reason to skip, naming it, in Pester and bash alike' {
        $env:FLANNELD_BINARY = "/nonexistent/flanneld-$PID"
        Get-FlannelTestbedFlanneldBinary | Should -BeNullOrEmpty
        Get-FlannelTestbedFlanneldSkipReason | Should -Match "FLANNELD_BINARY='/nonexistent/flanneld-$PID'"
        $r = & bash -c 'source "$1"; tb_flanneld_binary' bash $TestbedSh 2>&1
        $LASTEXITCODE | Should -Not -Be 0
        "$r" | Should -Match "/nonexistent/flanneld-$PID"
    }

    It 'takes a FLANNELD_BINARY that is an executable file, in Pester and bash alike' {
        $env:FLANNELD_BINARY = (Get-Command bash).Source
        Get-FlannelTestbedFlanneldBinary | Should -Be (Resolve-Path $env:FLANNELD_BINARY).Path
        Get-FlannelTestbedFlanneldSkipReason | Should -BeNullOrEmpty
        & bash -c 'source "$1"; tb_flanneld_binary' bash $TestbedSh | Should -Be $env:FLANNELD_BINARY
    }

    It 'finds ../shared/anchors/flanneld-v0.20.2 by default when it is there' {
        $env:FLANNELD_BINARY = $null
        $anchor = Join-Path $PSScriptRoot '../../../shared/anchors/flanneld-v0.20.2'
        if (-not (Test-Path $anchor)) { Set-ItResult -Skipped -Because "no $anchor on this machine"; return }
        Get-FlannelTestbedFlanneldBinary | Should -Be (Resolve-Path $anchor).Path
    }
}
