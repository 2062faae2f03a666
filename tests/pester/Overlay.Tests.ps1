# Issue 3 end to end: real FlannelPS nodes (Start-FlannelNode -Wait, one pwsh per host) on the
# multi-host testbed, with the seed config {"NetWork":"10.0.0.0/16"} in the testbed's etcd and a
# "container" per host on docker0 = FLANNEL_SUBNET. Everything a user of the seed would observe:
# container-to-container ping and TCP, hosts joining and leaving, the MTU, the UDP wire format,
# ICMP net unreachable, node restarts, iptables rules, and the node job's Stop-Job semantics.
# Holds for any correct datapath: it looks only at what the network and the host show.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    . (Join-Path $PSScriptRoot 'TestbedShortcuts.ps1')
    Assert-TestNamespace
    $script:RunId = if ($env:FLANNELPS_TEST_RUNID) { $env:FLANNELPS_TEST_RUNID } else { $PID }
    $script:Module = if ($env:FLANNELPS_MODULE) { $env:FLANNELPS_MODULE } else { (Resolve-Path (Join-Path $PSScriptRoot '../../out/FlannelPS/FlannelPS.psd1')).Path }
    $script:Network = '10.0.0.0/16'
    $script:Prefix = '/coreos.com/network'
    # An address inside the network that no lease covers: random allocation takes one of the first
    # 100 free /24s, so 10.0.254.0/24 stays free with three nodes.
    $script:Unleased = '10.0.254.2'

    function Start-Node([string] $HostName, [string] $ArgumentList = '', [hashtable] $Environment = @{}) {
        $n = Start-FlannelTestbedNode -Testbed $tb -HostName $HostName -Module $Module -ArgumentList $ArgumentList -Environment $Environment
        $script:Nodes[$HostName] = $n
        $n
    }

    # flannel's rules in `iptables [-t nat] -S` order: every line naming its chains or comments.
    function Get-FlannelRules([string] $HostName, [string] $Table) {
        $r = Invoke-Tb $HostName @('iptables', '-w', '5', '-t', $Table, '-S')
        if ($r.ExitCode -ne 0) { throw "iptables -t $Table -S in ${HostName}: $($r.Error)" }
        @($r.Output -split "`n" | Where-Object { $_ -match 'FLANNEL|flanneld' }) -join "`n"
    }

    # flannel HEAD's rule sets for the network and a lease.
    function Get-ExpectedNatRules([string] $Lease, [bool] $RandomFully) {
        $rf = if ($RandomFully) { ' --random-fully' } else { '' }
        $c = '-m comment --comment "flanneld masq"'
        @(
            '-N FLANNEL-POSTRTG'
            "-A POSTROUTING $c -j FLANNEL-POSTRTG"
            "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 $c -j RETURN"
            "-A FLANNEL-POSTRTG -s $Lease -d $Network $c -j RETURN"
            "-A FLANNEL-POSTRTG -s $Network -d $Lease $c -j RETURN"
            "-A FLANNEL-POSTRTG ! -s $Network -d $Lease $c -j RETURN"
            "-A FLANNEL-POSTRTG -s $Network ! -d 224.0.0.0/4 $c -j MASQUERADE$rf"
            "-A FLANNEL-POSTRTG ! -s $Network -d $Network $c -j MASQUERADE$rf"
        ) -join "`n"
    }
    function Get-ExpectedFilterRules {
        $c = '-m comment --comment "flanneld forward"'
        @(
            '-N FLANNEL-FWD'
            "-A FORWARD $c -j FLANNEL-FWD"
            "-A FLANNEL-FWD -s $Network $c -j ACCEPT"
            "-A FLANNEL-FWD -d $Network $c -j ACCEPT"
        ) -join "`n"
    }

    # Minimal pcap reader: one object per IPv4-in-UDP frame (Ethernet or Linux cooked capture).
    function Read-PcapUdp([string] $Path) {
        $bytes = [IO.File]::ReadAllBytes($Path)
        if ($bytes.Length -lt 24) { throw "$Path is not a pcap file ($($bytes.Length) bytes)" }
        $magic = [BitConverter]::ToUInt32($bytes, 0)
        if ($magic -notin 0xa1b2c3d4u, 0xa1b23c4du) { throw ('{0}: unexpected pcap magic 0x{1:x8}' -f $Path, $magic) }
        $linkType = [BitConverter]::ToUInt32($bytes, 20)
        $l2 = switch ($linkType) { 1 { 14 } 113 { 16 } default { throw "unsupported pcap link type $linkType" } }
        $be16 = { param($o) ([int]$bytes[$o] -shl 8) -bor $bytes[$o + 1] }
        $ip = { param($o) '{0}.{1}.{2}.{3}' -f $bytes[$o], $bytes[$o + 1], $bytes[$o + 2], $bytes[$o + 3] }
        $off = 24
        while ($off + 16 -le $bytes.Length) {
            $incl = [BitConverter]::ToInt32($bytes, $off + 8)
            $frame = $off + 16
            $off = $frame + $incl
            if ($off -gt $bytes.Length) { break }  # a truncated last record
            if ((& $be16 ($frame + $l2 - 2)) -ne 0x0800) { continue }
            $o = $frame + $l2
            if ($bytes[$o + 9] -ne 17) { continue }
            $ihl = ($bytes[$o] -band 0x0f) * 4
            $u = $o + $ihl
            $udpLen = & $be16 ($u + 4)
            $p = $u + 8
            $payloadLen = [Math]::Min($udpLen - 8, $frame + $incl - $p)
            $obj = [ordered]@{
                Src = & $ip ($o + 12); Dst = & $ip ($o + 16)
                SrcPort = & $be16 $u; DstPort = & $be16 ($u + 2)
                PayloadLength = $udpLen - 8
                PayloadByte0 = if ($payloadLen -gt 0) { $bytes[$p] } else { -1 }
                InnerTotalLength = -1; InnerProtocol = -1; InnerSrc = $null; InnerDst = $null; InnerIcmpType = -1
            }
            if ($payloadLen -ge 20) {
                $obj.InnerTotalLength = & $be16 ($p + 2)
                $obj.InnerProtocol = $bytes[$p + 9]
                $obj.InnerSrc = & $ip ($p + 12)
                $obj.InnerDst = & $ip ($p + 16)
                $innerIhl = ($bytes[$p] -band 0x0f) * 4
                if ($payloadLen -gt $innerIhl) { $obj.InnerIcmpType = $bytes[$p + $innerIhl] }
            }
            [pscustomobject]$obj
        }
    }

    $script:Nodes = @{}
    $script:RandomFully = $false
    if ((iptables --version) -match 'v(\d+)\.(\d+)\.(\d+)') {
        $script:RandomFully = [version]"$($Matches[1]).$($Matches[2]).$($Matches[3])" -ge [version]'1.6.2'
    }

    $sw = [Diagnostics.Stopwatch]::StartNew()
    $script:tb = $null
    $script:tb = New-FlannelTestbed -Name "fpe2-$RunId-o" -HostCount 3
    Invoke-TbEtcdctl @('put', "$Prefix/config", '{"NetWork":"10.0.0.0/16"}') | Should -Be 'OK'
    # h1 masquerades (-IpMasq) like the seed's flanneld; h2 does not. h3 joins later.
    $null = Start-Node h1 '-IpMasq'
    $null = Start-Node h2
    $script:SubnetEnvs = @{}
    foreach ($h in 'h1', 'h2') {
        $SubnetEnvs[$h] = Wait-FlannelTestbedNode -Node $Nodes[$h] -TimeoutSeconds 90
        $null = Add-FlannelTestbedContainer -Testbed $tb -HostName $h -Subnet $SubnetEnvs[$h].FLANNEL_SUBNET -Mtu ([int]$SubnetEnvs[$h].FLANNEL_MTU)
    }
    $script:C1 = Get-Container h1
    $script:C2 = Get-Container h2
    Wait-Ping $C1.Namespace $C2.Address
    Write-Host "overlay up in $($sw.ElapsedMilliseconds) ms: h1 $($SubnetEnvs.h1.FLANNEL_SUBNET), h2 $($SubnetEnvs.h2.FLANNEL_SUBNET)"
}

AfterAll {
    if ($script:tb) {
        # The testbed's directory goes away: show node logs that report trouble first.
        foreach ($n in $script:Nodes.Values) {
            if ((Test-Path $n.LogFile) -and (Select-String -Path $n.LogFile -Pattern 'error|exception|fail' -Quiet)) {
                Write-Host "---- $($n.LogFile)"; Get-Content -Tail 30 $n.LogFile | Write-Host
            }
        }
        Remove-FlannelTestbed -Testbed $script:tb
    }
}

Describe 'FlannelPS udp overlay on the testbed' -Tag 'Overlay' {
    It 'carries a ping from a container on h1 to a container on h2 with ttl=60 (udp: 4 hops)' {
        $r = Invoke-Ping $C1.Namespace $C2.Address 3
        $r.Output | Should -Match '3 packets transmitted, 3 received'
        $r.Output | Should -Match "from $([regex]::Escape($C2.Address)): icmp_seq=\d+ ttl=60 "
        (Invoke-Ping $C2.Namespace $C1.Address 2).Output | Should -Match '2 received'
    }

    It 'moves 10 MB over TCP between the containers intact' {
        $tx = Join-Path $tb.WorkDir 'tcp-10m.bin'
        $rx = Join-Path $tb.WorkDir 'tcp-10m.rx'
        $data = [byte[]]::new(10MB)
        [Random]::new(42).NextBytes($data)
        [IO.File]::WriteAllBytes($tx, $data)
        # busybox nc on both ends with -e: the server streams the file and closes, the client
        # writes until EOF, so neither side depends on nc's stdin handling.
        $srv = Start-FlannelTestbedProcess -Testbed $tb -Namespace $C2.Namespace -Name nc-server -Command 'busybox', 'nc', '-l', '-p', '5001', '-e', 'busybox', 'cat', $tx
        Wait-FlannelTestbedCondition -Description 'nc listening' -TimeoutSeconds 10 -Condition {
            (Invoke-Tb $C2.Namespace @('ss', '-Hltn', 'sport = :5001')).Output -match '5001'
        } | Out-Null
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $r = Invoke-Tb $C1.Namespace @('busybox', 'nc', '-w', '5', $C2.Address, '5001', '-e', 'busybox', 'sh', '-c', 'exec busybox cat > "$1"', 'sh', $rx) -TimeoutSeconds 90
        $ms = $sw.ElapsedMilliseconds
        Stop-FlannelTestbedProcess -Process $srv
        $r.ExitCode | Should -Be 0 -Because $r.Error
        (Get-Item $rx).Length | Should -Be 10MB
        (Get-FileHash $rx -Algorithm SHA256).Hash | Should -Be (Get-FileHash $tx -Algorithm SHA256).Hash
        Write-Host ("10 MB in {0} ms ({1:N1} Mbit/s)" -f $ms, (10 * 8 * 1.048576 * 1000 / [Math]::Max($ms, 1)))
    }

    It 'sets MTU 1472 on flannel0 and FLANNEL_MTU=1472 in subnet.env (underlay 1500 - 28)' {
        foreach ($h in 'h1', 'h2') {
            (Invoke-Tb $h @('ip', 'link', 'show', 'flannel0')).Output | Should -Match '\bmtu 1472\b'
            $SubnetEnvs[$h].FLANNEL_MTU | Should -BeExactly '1472'
        }
        [IO.File]::ReadAllText($Nodes.h1.SubnetFile) | Should -BeExactly (
            "FLANNEL_NETWORK=10.0.0.0/16`nFLANNEL_SUBNET=$($SubnetEnvs.h1.FLANNEL_SUBNET)`nFLANNEL_MTU=1472`nFLANNEL_IPMASQ=true`n")
        [IO.File]::ReadAllText($Nodes.h2.SubnetFile) | Should -BeExactly (
            "FLANNEL_NETWORK=10.0.0.0/16`nFLANNEL_SUBNET=$($SubnetEnvs.h2.FLANNEL_SUBNET)`nFLANNEL_MTU=1472`nFLANNEL_IPMASQ=false`n")
        # A full-MTU inner packet (1444 + 8 ICMP + 20 IP = 1472, DF set) crosses: 1500 on the wire.
        (Invoke-Tb $C1.Namespace @('ping', '-n', '-M', 'do', '-s', '1444', '-c', '2', '-i', '0.2', '-W', '1', $C2.Address)).Output |
            Should -Match '2 received'
        $SubnetEnvs.h1.FLANNEL_SUBNET | Should -Match '^10\.0\.\d+\.1/24$'
        $SubnetEnvs.h1.FLANNEL_SUBNET | Should -Not -Be $SubnetEnvs.h2.FLANNEL_SUBNET
    }

    It 'sends UDP datagrams to port 8285 on the underlay whose payload is the inner IPv4 packet' {
        $pcap = Join-Path $tb.WorkDir 'underlay.pcap'
        # On h2's underlay port: the echo requests arrive from h1, the replies leave for h1.
        $cap = Start-FlannelTestbedCapture -Testbed $tb -Namespace $Nodes.h2.Namespace -Name tcpdump-ul -Arguments '-U', '-i', 'eth0', '-c', '6', '-w', $pcap, 'udp and port 8285'
        $r = Invoke-Ping $C1.Namespace $C2.Address 3
        Wait-FlannelTestbedCondition -Description 'tcpdump to capture 6 datagrams' -TimeoutSeconds 10 -Condition { -not (Test-FlannelTestbedProcessAlive $cap.Pid) } | Out-Null
        Stop-FlannelTestbedProcess -Process $cap
        $r.ExitCode | Should -Be 0
        $frames = @(Read-PcapUdp $pcap)
        $frames.Count | Should -Be 6
        foreach ($f in $frames) {
            $f.DstPort | Should -Be 8285
            $f.PayloadByte0 | Should -Be 0x45
            $f.InnerProtocol | Should -Be 1
            $f.PayloadLength | Should -Be $f.InnerTotalLength -Because 'nothing but the inner packet is in the datagram'
        }
        $requests = @($frames | Where-Object { $_.Src -eq '192.0.2.11' -and $_.Dst -eq '192.0.2.12' -and $_.InnerSrc -eq $C1.Address -and $_.InnerDst -eq $C2.Address -and $_.InnerIcmpType -eq 8 })
        $replies = @($frames | Where-Object { $_.Src -eq '192.0.2.12' -and $_.Dst -eq '192.0.2.11' -and $_.InnerSrc -eq $C2.Address -and $_.InnerDst -eq $C1.Address -and $_.InnerIcmpType -eq 0 })
        $requests.Count | Should -Be 3
        $replies.Count | Should -Be 3
        $requests[0].PayloadLength | Should -Be 84
    }

    It 'answers a destination no lease covers with ICMP net unreachable on flannel0' {
        $cap = Start-FlannelTestbedCapture -Testbed $tb -Namespace $Nodes.h1.Namespace -Name tcpdump-tun -Arguments '-i', 'flannel0', '-l', '-c', '1', 'icmp[icmptype] == 3'
        # UDP (an ICMP offender would get no ICMP error), from the container, into 10.0.0.0/16.
        $null = Invoke-Tb $C1.Namespace @('bash', '-c', "echo probe > /dev/udp/$Unleased/9") -TimeoutSeconds 10
        $tun = (Get-LeaseSubnet $SubnetEnvs.h1) -replace '/\d+$'
        Wait-FlannelTestbedCapture -Capture $cap -Description 'the ICMP error' | Should -Match ("{0} > {1}: ICMP net {2} unreachable" -f [regex]::Escape($tun), [regex]::Escape($C1.Address), [regex]::Escape($Unleased))
    }

    It 'installs exactly flannel HEAD''s rules on the -IpMasq host and only FLANNEL-FWD on the other' {
        Get-FlannelRules h1 nat | Should -BeExactly (Get-ExpectedNatRules (Get-LeaseSubnet $SubnetEnvs.h1) $RandomFully)
        Get-FlannelRules h1 filter | Should -BeExactly (Get-ExpectedFilterRules)
        Get-FlannelRules h2 nat | Should -BeNullOrEmpty
        Get-FlannelRules h2 filter | Should -BeExactly (Get-ExpectedFilterRules)
    }

    It 'masquerades traffic leaving the overlay on the -IpMasq host only, and not overlay traffic' {
        # The underlay gateway has no route back to 10.0.0.0/16: only a masqueraded ping returns.
        (Invoke-Ping $C1.Namespace $tb.UnderlayGateway 2).Output | Should -Match '2 received'
        (Invoke-Ping $C2.Namespace $tb.UnderlayGateway 2).Output | Should -Match '2 packets transmitted, 0 received'
        # Overlay to overlay keeps the container's own source address (the RETURN rules).
        $cap = Start-FlannelTestbedCapture -Testbed $tb -Namespace $Nodes.h2.Namespace -Name tcpdump-src -Arguments '-i', 'docker0', '-l', '-c', '1', 'icmp[icmptype] == 8'
        $null = Invoke-Ping $C1.Namespace $C2.Address 1
        Wait-FlannelTestbedCapture -Capture $cap -Description 'the echo request on h2''s docker0' | Should -Match ('IP {0} > {1}: ICMP echo request' -f [regex]::Escape($C1.Address), [regex]::Escape($C2.Address))
    }

    It 'puts deleted rules back within the 5 s resync' {
        $nat = Get-ExpectedNatRules (Get-LeaseSubnet $SubnetEnvs.h1) $RandomFully
        $rf = if ($RandomFully) { @('--random-fully') } else { @() }
        (Invoke-Tb h1 (@('iptables', '-w', '5', '-t', 'nat', '-D', 'FLANNEL-POSTRTG', '-s', $Network, '!', '-d', '224.0.0.0/4', '-m', 'comment', '--comment', 'flanneld masq', '-j', 'MASQUERADE') + $rf)).ExitCode | Should -Be 0
        (Invoke-Tb h1 @('iptables', '-w', '5', '-D', 'FLANNEL-FWD', '-d', $Network, '-m', 'comment', '--comment', 'flanneld forward', '-j', 'ACCEPT')).ExitCode | Should -Be 0
        Get-FlannelRules h1 nat | Should -Not -BeExactly $nat
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Wait-FlannelTestbedCondition -Description 'the rules to come back' -TimeoutSeconds 12 -IntervalMilliseconds 250 -Condition {
            (Get-FlannelRules h1 nat) -ceq $nat -and (Get-FlannelRules h1 filter) -ceq (Get-ExpectedFilterRules)
        } | Out-Null
        Write-Host "rules restored after $($sw.ElapsedMilliseconds) ms"
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 7
    }

    It 'makes a third host reachable when it joins' {
        $null = Start-Node h3
        $SubnetEnvs['h3'] = Wait-FlannelTestbedNode -Node $Nodes.h3 -TimeoutSeconds 90
        $SubnetEnvs.h3.FLANNEL_SUBNET | Should -Not -BeIn @($SubnetEnvs.h1.FLANNEL_SUBNET, $SubnetEnvs.h2.FLANNEL_SUBNET)
        $c3 = Add-FlannelTestbedContainer -Testbed $tb -HostName h3 -Subnet $SubnetEnvs.h3.FLANNEL_SUBNET -Mtu ([int]$SubnetEnvs.h3.FLANNEL_MTU)
        Wait-Ping $C1.Namespace $c3.Address
        Wait-Ping $C2.Namespace $c3.Address
        (Invoke-Ping $c3.Namespace $C1.Address 2).Output | Should -Match '2 received, 0% packet loss'
        (Invoke-Ping $c3.Namespace $C2.Address 2).Output | Should -Match '2 received, 0% packet loss'
    }

    It 'makes a host unreachable when its node stops (SIGTERM) while the others keep talking' {
        $c3 = Get-Container h3
        Stop-Gracefully $Nodes.h3 | Should -BeTrue -Because 'the node stops cleanly on SIGTERM'
        Get-Content -Raw $Nodes.h3.LogFile | Should -Match 'State: Stopped'
        Get-Content -Raw $Nodes.h3.LogFile | Should -Not -Match 'Exception'
        (Invoke-Tb h3 @('ip', 'link', 'show', 'flannel0')).ExitCode | Should -Not -Be 0 -Because 'the TUN goes away with the node'
        (Invoke-Ping $C1.Namespace $c3.Address 2).Output | Should -Match '2 packets transmitted, 0 received'
        (Invoke-Ping $c3.Namespace $C2.Address 2).Output | Should -Match '2 packets transmitted, 0 received'
        (Invoke-Ping $C1.Namespace $C2.Address 3).Output | Should -Match '3 received, 0% packet loss'
        (Invoke-Ping $C2.Namespace $C1.Address 3).Output | Should -Match '3 received, 0% packet loss'
        # Parity: stopping does not revoke the lease.
        Invoke-TbEtcdctl @('get', '--print-value-only', "$Prefix/subnets/$((Get-LeaseSubnet $SubnetEnvs.h3) -replace '/', '-')") | Should -BeExactly '{"PublicIP":"192.0.2.13","PublicIPv6":null}'
    }

    It 'runs as a job: Running, counts traffic to a peer, and Stop-Job removes flannel0 and the route but keeps the lease' {
        $script = Join-Path $tb.WorkDir 'job-mode.ps1'
        Set-Content -Path $script -Value @'
param($Module, $Etcd, $SubnetFile, $Peer, $LeaseKey)
$ErrorActionPreference = 'Stop'
Import-Module $Module
$r = [ordered]@{}
$job = Start-FlannelNode -EtcdEndpoint $Etcd -SubnetFile $SubnetFile
$r.JobType = $job.GetType().Name
$deadline = [DateTime]::UtcNow.AddSeconds(60)
while ((Get-FlannelNode -Job $job).State -ne 'Running' -and $job.State -eq 'Running' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
$r.JobState = "$($job.State)"
$r.NodeState = "$((Get-FlannelNode -Job $job).State)"
$r.ByName = @(Get-FlannelNode -Name $job.Name).Count
$r.PingOk = $false
$deadline = [DateTime]::UtcNow.AddSeconds(30)
while (-not $r.PingOk -and [DateTime]::UtcNow -lt $deadline) {
    $null = ping -n -c 1 -W 1 $Peer
    $r.PingOk = $LASTEXITCODE -eq 0
}
$r.Ping = (ping -n -c 3 -i 0.2 -W 1 $Peer) -join "`n"
$s = Get-FlannelNode -Job $job
$r.Subnet = "$($s.Subnet)"
$r.Peers = @($s.Peers | ForEach-Object { [ordered]@{ Subnet = "$($_.Subnet)"; PublicIP = "$($_.PublicIP)"; TxPackets = $_.TxPackets; RxPackets = $_.RxPackets } })
$r.TunRxPackets = $s.Statistics.Detail.TunRxPackets
$r.UdpRxPackets = $s.Statistics.Detail.UdpRxPackets
$r.LinkBeforeStop = (ip link show flannel0 2>&1) -join "`n"
$sw = [Diagnostics.Stopwatch]::StartNew()
Stop-Job $job
$r.StopMs = $sw.ElapsedMilliseconds
$r.JobStateAfterStop = "$($job.State)"
$null = ip link show flannel0 2>&1
$r.LinkExitAfterStop = $LASTEXITCODE
$r.RouteAfterStop = (ip -4 route show 10.0.0.0/16) -join "`n"
$r.LeaseAfterStop = (etcdctl "--endpoints=$Etcd" get --print-value-only $LeaseKey) -join "`n"
Remove-Job $job
$r | ConvertTo-Json -Depth 5 -Compress
'@
        $c1 = $C1.Address
        $leaseKey = "$Prefix/subnets/$((Get-LeaseSubnet $SubnetEnvs.h3) -replace '/', '-')"
        $r = Invoke-Tb h3 ((Get-FlannelTestbedPwshCommand) + @('-NoProfile', '-NonInteractive', '-File', $script, $Module, $tb.EtcdEndpoint, $Nodes.h3.SubnetFile, $c1, $leaseKey)) -TimeoutSeconds 150
        $r.ExitCode | Should -Be 0 -Because "$($r.Error)`n$($r.Output)"
        $j = ($r.Output -split "`n" | Where-Object { $_ -like '{*' } | Select-Object -Last 1) | ConvertFrom-Json
        $j.JobType | Should -Be 'FlannelNodeJob'
        $j.JobState | Should -Be 'Running'
        $j.NodeState | Should -Be 'Running'
        $j.ByName | Should -Be 1
        $j.PingOk | Should -BeTrue
        $j.Ping | Should -Match '3 received'
        $j.Subnet | Should -Be (Get-LeaseSubnet $SubnetEnvs.h3) -Because 'the job node reuses the subnet of the subnet file'
        $peer = $j.Peers | Where-Object Subnet -EQ (Get-LeaseSubnet $SubnetEnvs.h1)
        $peer.PublicIP | Should -Be '192.0.2.11'
        $peer.TxPackets | Should -BeGreaterThan 0
        $peer.RxPackets | Should -BeGreaterThan 0
        $j.TunRxPackets | Should -BeGreaterThan 0
        $j.UdpRxPackets | Should -BeGreaterThan 0
        $j.LinkBeforeStop | Should -Match 'flannel0'
        $j.JobStateAfterStop | Should -Be 'Stopped'
        $j.LinkExitAfterStop | Should -Not -Be 0 -Because 'flannel0 is gone once Stop-Job returns'
        $j.RouteAfterStop | Should -BeNullOrEmpty
        $j.LeaseAfterStop | Should -BeExactly '{"PublicIP":"192.0.2.13","PublicIPv6":null}'
        Write-Host "Stop-Job took $($j.StopMs) ms"
    }

    It 'keeps its subnet (from the subnet file) and rules across a node restart, and traffic returns; FLANNELPS_DATAPATH_STATS_SECONDS turns on the stats line' {
        $before = $SubnetEnvs.h1.FLANNEL_SUBNET
        Stop-Gracefully $Nodes.h1 | Should -BeTrue
        (Invoke-Ping $C2.Namespace $C1.Address 1).ExitCode | Should -Not -Be 0 -Because 'h1 has no datapath while its node is down'
        # HEAD leaves the rules in place on stop.
        Get-FlannelRules h1 filter | Should -BeExactly (Get-ExpectedFilterRules)
        # The lease expires while the node is down: only the subnet file can bring the subnet back
        # (flannel reuses the previous subnet.env subnet when it is free), not the lease found by PublicIP.
        Invoke-TbEtcdctl @('del', "$Prefix/subnets/$((Get-LeaseSubnet $SubnetEnvs.h1) -replace '/', '-')") | Should -Be '1'
        # Restarted with the datapath's stats line on (what the bench reads for its GC check).
        $null = Start-Node h1 '-IpMasq -Verbose' @{ FLANNELPS_DATAPATH_STATS_SECONDS = '1' }
        $again = Wait-FlannelTestbedNode -Node $Nodes.h1 -TimeoutSeconds 90
        $again.FLANNEL_SUBNET | Should -BeExactly $before
        Wait-Ping $C2.Namespace $C1.Address
        (Invoke-Ping $C1.Namespace $C2.Address 3).Output | Should -Match '3 received, 0% packet loss'
        $stats = Wait-FlannelTestbedCondition -Description 'a stats line counting the pings' -TimeoutSeconds 10 -Condition {
            $m = [regex]::Matches((Get-Content -Raw $Nodes.h1.LogFile), 'udp datapath stats: tun_rx=(\d+) [^\r\n]*')
            if ($m.Count -and [int]$m[$m.Count - 1].Groups[1].Value -ge 3) { $m[$m.Count - 1].Value }
        }
        $stats | Should -Match 'gc0=\d+ gc1=\d+ gc2=\d+'
        Get-FlannelRules h1 nat | Should -BeExactly (Get-ExpectedNatRules (Get-LeaseSubnet $again) $RandomFully) -Because 'a restart must not duplicate rules'
        Get-FlannelRules h1 filter | Should -BeExactly (Get-ExpectedFilterRules)
        @((Invoke-TbEtcdctl @('get', '--prefix', '--keys-only', "$Prefix/subnets/")) -split "`n" | Where-Object { $_ }).Count | Should -Be 3
    }
}
