# Issue 12 wire compatibility: the offloaded udp datapath (TUN TSO/USO + UDP GSO/GRO) against real
# flanneld v0.20.2 (udp backend) and against another FlannelPS node, on the multi-host testbed:
# h1 runs flanneld, h2 and h3 run FlannelPS, each with a "container" on docker0 = FLANNEL_SUBNET.
# 50 MB of TCP each way arrive intact (sha256), UDP and ICMP cross, and a capture of what FlannelPS
# puts on the underlay shows one complete inner IPv4 packet of at most FLANNEL_MTU per datagram,
# with valid IP and TCP checksums (the sender's underlay port cuts GSO sends as a NIC would:
# gso_max_segs 1). Skips with a message when the flanneld binary is absent (FLANNELD_BINARY overrides).

BeforeDiscovery {
    $script:Flanneld = if ($env:FLANNELD_BINARY) { $env:FLANNELD_BINARY } else { Join-Path $PSScriptRoot '../../../shared/anchors/flanneld-v0.20.2' }
    $script:NoFlanneld = -not (Test-Path -LiteralPath $Flanneld)
    if ($NoFlanneld) { Write-Host "FlanneldInterop: skipped: no flanneld binary at $Flanneld (set FLANNELD_BINARY)" }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    . (Join-Path $PSScriptRoot 'TestbedShortcuts.ps1')
    $script:Flanneld = if ($env:FLANNELD_BINARY) { $env:FLANNELD_BINARY } else { Join-Path $PSScriptRoot '../../../shared/anchors/flanneld-v0.20.2' }
    if (-not (Test-Path -LiteralPath $Flanneld)) { return }
    Assert-TestNamespace
    $script:RunId = if ($env:FLANNELPS_TEST_RUNID) { $env:FLANNELPS_TEST_RUNID } else { $PID }
    $script:Module = if ($env:FLANNELPS_MODULE) { $env:FLANNELPS_MODULE } else { (Resolve-Path (Join-Path $PSScriptRoot '../../out/FlannelPS/FlannelPS.psd1')).Path }
    $script:Prefix = '/coreos.com/network'

    # The underlay check, in C#: 1500-byte frames by the thousand are too slow for a script loop.
    Add-Type -TypeDefinition @'
public static class FlannelWireCheck
{
    static int Be16(byte[] b, int o) => (b[o] << 8) | b[o + 1];
    static int Sum(byte[] b, int o, int n, long s = 0)
    {
        for (int i = 0; i < n; i += 2) s += (b[o + i] << 8) + (i + 1 < n ? b[o + i + 1] : 0);
        while (s > 0xffff) s = (s >> 16) + (s & 0xffff);
        return (int)s;
    }
    /// Checks every IPv4/UDP port-8285 frame of a pcap; returns "" or the first problem. frames/full/tcp: counts.
    public static string Check(string path, int mtu, out int frames, out int full, out int tcp)
    {
        frames = full = tcp = 0;
        var b = System.IO.File.ReadAllBytes(path);
        int link = System.BitConverter.ToInt32(b, 20);
        int l2 = link == 1 ? 14 : link == 113 ? 16 : -1;
        if (l2 < 0) return "unsupported link type " + link;
        for (int off = 24; off + 16 <= b.Length;)
        {
            int incl = System.BitConverter.ToInt32(b, off + 8), f = off + 16;
            off = f + incl;
            if (off > b.Length) break;
            if (Be16(b, f + l2 - 2) != 0x0800) continue;
            int o = f + l2, ol = Be16(b, o + 2), oh = (b[o] & 15) * 4;
            if (b[o + 9] != 17) continue;
            int u = o + oh;
            if (Be16(b, u) != 8285 && Be16(b, u + 2) != 8285) continue;
            frames++;
            if (ol > 1500) return "an underlay packet of " + ol + " bytes";
            if (incl - l2 < ol) return "a truncated capture: snaplen too short";
            int p = u + 8, pl = Be16(b, u + 4) - 8;
            if (b[p] >> 4 != 4) return "a payload that is not IPv4";
            int il = Be16(b, p + 2), ih = (b[p] & 15) * 4;
            if (il != pl) return "a payload of " + pl + " bytes holding an inner packet of " + il;
            if (il > mtu) return "an inner packet of " + il + " bytes > MTU " + mtu;
            if (Sum(b, p, ih) != 0xffff) return "an inner IP header checksum that is wrong";
            if (il == mtu) full++;
            int proto = b[p + 9];
            if (proto != 6 && proto != 17) continue;
            if ((Be16(b, p + 6) & 0x3fff) != 0) continue; // a fragment: no L4 header of its own
            if (proto == 17 && Be16(b, p + ih + 6) == 0) continue;
            long pseudo = Be16(b, p + 12) + Be16(b, p + 14) + Be16(b, p + 16) + Be16(b, p + 18) + proto + (il - ih);
            if (Sum(b, p + ih, il - ih, pseudo) != 0xffff) return "an inner " + (proto == 6 ? "TCP" : "UDP") + " checksum that is wrong";
            if (proto == 6) tcp++;
        }
        return "";
    }
}
'@

    function Get-HostNs([string] $HostName) { ($tb.Hosts | Where-Object Name -EQ $HostName).Namespace }

    # Bytes from one container to another over TCP (busybox nc both ends), compared by sha256.
    function Send-TcpFile($From, $To, [int] $Port, [int] $Size) {
        $tx = Join-Path $tb.WorkDir "tcp-$Port.bin"
        $rx = Join-Path $tb.WorkDir "tcp-$Port.rx"
        if (-not (Test-Path $tx)) {
            $data = [byte[]]::new($Size)
            [Random]::new($Port).NextBytes($data)
            [IO.File]::WriteAllBytes($tx, $data)
        }
        $srv = Start-FlannelTestbedProcess -Testbed $tb -Namespace $From.Namespace -Name "nc-$Port" -Command 'busybox', 'nc', '-l', '-p', "$Port", '-e', 'busybox', 'cat', $tx
        try {
            Wait-FlannelTestbedCondition -Description "nc listening on $Port" -TimeoutSeconds 10 -Condition {
                (Invoke-Tb $From.Namespace @('ss', '-Hltn', "sport = :$Port")).Output -match "$Port"
            } | Out-Null
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $r = Invoke-Tb $To.Namespace @('busybox', 'nc', '-w', '10', $From.Address, "$Port", '-e', 'busybox', 'sh', '-c', 'exec busybox cat > "$1"', 'sh', $rx) -TimeoutSeconds 120
            $ms = $sw.ElapsedMilliseconds
        }
        finally { Stop-FlannelTestbedProcess -Process $srv }
        $r.ExitCode | Should -Be 0 -Because $r.Error
        (Get-Item $rx).Length | Should -Be $Size
        (Get-FileHash $rx -Algorithm SHA256).Hash | Should -Be (Get-FileHash $tx -Algorithm SHA256).Hash
        Write-Host ("{0} MB {1} -> {2} in {3} ms ({4:N0} Mbit/s)" -f ($Size / 1MB), $From.HostName, $To.HostName, $ms, ($Size * 8 / 1e3 / [Math]::Max($ms, 1)))
        Remove-Item $rx
    }

    # A capture of what $HostName sends on the underlay while $Action runs, with GSO cut at its port.
    function Assert-UnderlayIsFlannel([string] $HostName, [int] $Mtu, [scriptblock] $Action) {
        $ns = Get-HostNs $HostName
        $pcap = Join-Path $tb.WorkDir "ul-$HostName.pcap"
        & ip -n $ns link set eth0 gso_max_segs 1
        if ($LASTEXITCODE) { throw "ip link set eth0 gso_max_segs 1 in $ns failed" }
        try {
            $cap = Start-FlannelTestbedCapture -Testbed $tb -Namespace $HostName -Name "tcpdump-$HostName" -Arguments '-U', '-s', '2000', '-i', 'eth0', '-c', '4000', '-w', $pcap, 'udp and src port 8285 and src host', (($tb.Hosts | Where-Object Name -EQ $HostName).Address)
            try { & $Action } finally { Stop-FlannelTestbedProcess -Process $cap }
        }
        finally { & ip -n $ns link set eth0 gso_max_segs 65535 }
        $frames = 0; $full = 0; $tcp = 0
        $problem = [FlannelWireCheck]::Check($pcap, $Mtu, [ref] $frames, [ref] $full, [ref] $tcp)
        Write-Host "underlay from ${HostName}: $frames datagrams, $tcp TCP, $full of them full-size ($Mtu)"
        $problem | Should -BeNullOrEmpty
        $frames | Should -BeGreaterThan 1000
        $full | Should -BeGreaterThan ($frames / 2) -Because 'the bulk of a transfer is full-size segments'
    }

    # The last stats line's "name=a/b" pair as two numbers.
    function Get-StatPair([string] $HostName, [string] $Name) {
        $m = [regex]::Matches((Get-Content -Raw $Nodes[$HostName].LogFile), "$Name=(\d+)/(\d+)")
        if (-not $m.Count) { return @(0, 0) }
        @([long]$m[$m.Count - 1].Groups[1].Value, [long]$m[$m.Count - 1].Groups[2].Value)
    }

    $script:Nodes = @{}
    $script:tb = $null
    $script:tb = New-FlannelTestbed -Name "fpe2-$RunId-fi" -HostCount 3
    (Invoke-FlannelTestbedEtcdctl -Testbed $tb put "$Prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"udp"}}').TrimEnd() | Should -Be 'OK'
    $h1 = $tb.Hosts | Where-Object Name -EQ h1
    $Nodes.h1 = Start-FlannelTestbedProcess -Testbed $tb -Namespace h1 -Name flanneld -Command @(
        $Flanneld, "-etcd-endpoints=$($tb.EtcdEndpoint)", '-iface=eth0', "-subnet-file=$($h1.SubnetFile)", '-ip-masq=false')
    foreach ($h in 'h2', 'h3') {
        $Nodes[$h] = Start-FlannelTestbedNode -Testbed $tb -HostName $h -Module $Module -ArgumentList '-Verbose' -Environment @{ FLANNELPS_DATAPATH_STATS_SECONDS = '1' }
    }
    $script:SubnetEnvs = @{}
    $SubnetEnvs.h1 = Wait-FlannelTestbedCondition -Description 'flanneld to write subnet.env' -TimeoutSeconds 60 -IntervalMilliseconds 200 -Condition {
        if (-not (Test-FlannelTestbedProcessAlive $Nodes.h1.Pid)) { throw "flanneld exited: $(Get-Content -Raw $Nodes.h1.LogFile)" }
        Get-FlannelTestbedSubnetEnv -Path $h1.SubnetFile
    }
    foreach ($h in 'h2', 'h3') { $SubnetEnvs[$h] = Wait-FlannelTestbedNode -Node $Nodes[$h] -TimeoutSeconds 90 }
    foreach ($h in 'h1', 'h2', 'h3') {
        $null = Add-FlannelTestbedContainer -Testbed $tb -HostName $h -Subnet $SubnetEnvs[$h].FLANNEL_SUBNET -Mtu ([int]$SubnetEnvs[$h].FLANNEL_MTU)
    }
    $script:C1 = Get-Container h1
    $script:C2 = Get-Container h2
    $script:C3 = Get-Container h3
    Wait-Ping $C2.Namespace $C1.Address
    Wait-Ping $C1.Namespace $C2.Address
    Wait-Ping $C2.Namespace $C3.Address
}

AfterAll {
    if ($script:tb) {
        foreach ($n in $script:Nodes.Values) {
            if ((Test-Path $n.LogFile) -and (Select-String -Path $n.LogFile -Pattern 'error|exception|fail' -Quiet)) {
                Write-Host "---- $($n.LogFile)"; Get-Content -Tail 30 $n.LogFile | Write-Host
            }
        }
        Remove-FlannelTestbed -Testbed $script:tb
    }
}

Describe 'FlannelPS udp with offloads against flanneld v0.20.2 and another FlannelPS node' -Tag 'Overlay', 'Interop' -Skip:$NoFlanneld {
    It 'uses the offloads (TSO4 reads, UDP GRO) on the FlannelPS hosts' {
        foreach ($h in 'h2', 'h3') {
            Get-Content -Raw $Nodes[$h].LogFile | Should -Match 'offloads tun:csum,tso4'
        }
    }

    It 'carries ICMP both ways between flanneld and FlannelPS, small and fragmented' {
        (Invoke-Ping $C2.Namespace $C1.Address 3).Output | Should -Match '3 received'
        (Invoke-Ping $C1.Namespace $C2.Address 3).Output | Should -Match '3 received'
        (Invoke-Ping $C2.Namespace $C1.Address 3 3000).Output | Should -Match '3 received' -Because 'fragments cross as they came'
        (Invoke-Ping $C1.Namespace $C2.Address 3 3000).Output | Should -Match '3 received'
        (Invoke-Ping $C2.Namespace $C1.Address 1).Output | Should -Match 'ttl=60'
    }

    It 'moves 50 MB of TCP each way between flanneld and FlannelPS intact, and FlannelPS sends only single inner packets' {
        $before = Get-StatPair h2 'tso_in'
        Assert-UnderlayIsFlannel h2 ([int]$SubnetEnvs.h2.FLANNEL_MTU) { Send-TcpFile $C2 $C1 5101 50MB }
        Send-TcpFile $C1 $C2 5102 50MB
        Start-Sleep -Milliseconds 1500 # one more stats line
        $after = Get-StatPair h2 'tso_in'
        $after[0] | Should -BeGreaterThan $before[0] -Because 'h2 read TSO super-packets from flannel0 and cut them'
    }

    It 'carries UDP both ways between flanneld and FlannelPS' {
        foreach ($pair in @(@($C1, $C2), @($C2, $C1))) {
            $server, $client = $pair
            $srv = Start-FlannelTestbedProcess -Testbed $tb -Namespace $server.Namespace -Name iperf3-u -Command 'iperf3', '-s', '-1', '-B', $server.Address, '-p', '5201'
            try {
                Wait-FlannelTestbedCondition -Description 'iperf3 listening' -TimeoutSeconds 10 -Condition {
                    (Invoke-Tb $server.Namespace @('ss', '-Hltn', 'sport = :5201')).Output -match '5201'
                } | Out-Null
                # A modest rate: flanneld reads one datagram per syscall, and on a loaded shared machine
                # its socket buffer overflows in bursts (measured 7% lost at 100 Mbit/s): loss is not
                # what this checks, that UDP crosses both ways is.
                $r = Invoke-Tb $client.Namespace @('iperf3', '-c', $server.Address, '-p', '5201', '-u', '-b', '20M', '-l', '1400', '-t', '2', '-J') -TimeoutSeconds 30
            }
            finally { Stop-FlannelTestbedProcess -Process $srv }
            $j = $r.Output | ConvertFrom-Json
            $j.PSObject.Properties.Name | Should -Not -Contain 'error'
            $sum = $j.end.sum
            Write-Host ("UDP {0} -> {1}: {2} packets, {3:N2}% lost" -f $client.HostName, $server.HostName, $sum.packets, $sum.lost_percent)
            $sum.packets | Should -BeGreaterThan 1000
            $sum.lost_percent | Should -BeLessThan 10
        }
    }

    It 'moves 50 MB of TCP each way between two FlannelPS nodes intact, coalesced into flannel0, with single inner packets on the wire' {
        $gro = Get-StatPair h2 'gro_out'
        Assert-UnderlayIsFlannel h3 ([int]$SubnetEnvs.h3.FLANNEL_MTU) { Send-TcpFile $C3 $C2 5103 50MB }
        Send-TcpFile $C2 $C3 5104 50MB
        Start-Sleep -Milliseconds 1500
        $after = Get-StatPair h2 'gro_out'
        # h3's GSO sends crossed whole (its port cut them only during the capture): h2 joined them.
        Write-Host "h2 coalesced: $($after[1] - $gro[1]) segments into $($after[0] - $gro[0]) writes"
        $after[0] | Should -BeGreaterThan $gro[0]
    }
}
