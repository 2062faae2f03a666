# Issue 11: mixed clusters of FlannelPS nodes and real flanneld v0.20.2, on the namespace testbed.
# For each backend (udp, vxlan, host-gw) one testbed: etcd with {"Network":"10.0.0.0/16",
# "Backend":{"Type":<backend>}}, a FlannelPS node on h1 (Start-FlannelNode -Wait in its own pwsh),
# real flanneld on h2, and later a second FlannelPS node on h3 that joins and leaves. Each side must
# read the other's lease (the lease values, the kernel state each programs for the other) and the
# "containers" (namespaces on each host's docker0 = FLANNEL_SUBNET) must ping across both ways.
#
# Real flanneld comes from ../shared/anchors/flanneld-v0.20.2 (or FLANNELD_BINARY); without it every
# test skips with a message saying so.
# FLANNELPS_INTEROP_REFERENCE=flanneld runs flanneld in the FlannelPS seat too, which checks that
# the expectations below are flanneld's own (only the two repairs v0.20.2 lacks then fail).

BeforeDiscovery {
    $script:Backends = @(
        @{ Backend = 'udp'; Short = 'u' }
        @{ Backend = 'vxlan'; Short = 'v' }
        @{ Backend = 'host-gw'; Short = 'g' }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    . (Join-Path $PSScriptRoot 'TestbedShortcuts.ps1')
    Assert-TestNamespace
    $script:RunId = if ($env:FLANNELPS_TEST_RUNID) { $env:FLANNELPS_TEST_RUNID } else { $PID }
    $script:Module = if ($env:FLANNELPS_MODULE) { $env:FLANNELPS_MODULE } else { (Resolve-Path (Join-Path $PSScriptRoot '../../out/FlannelPS/FlannelPS.psd1')).Path }
    Import-Module $script:Module -Force
    $script:Prefix = '/coreos.com/network'
    $script:FlanneldSkip = Get-FlannelTestbedFlanneldSkipReason
    # The MTU each backend derives from the 1500-byte underlay: udp - 28, vxlan - 50, host-gw as is.
    $script:ExpectedMtu = @{ 'udp' = 1472; 'vxlan' = 1450; 'host-gw' = 1500 }
    $script:NatRefusal = "your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend"

    # Stdout of a command that must succeed.
    function Get-TbOutput([string] $Namespace, [string[]] $Command) {
        $r = Invoke-Tb $Namespace $Command
        if ($r.ExitCode -ne 0) { throw "'$($Command -join ' ')' in $Namespace failed ($($r.ExitCode)): $($r.Error)" }
        $r.Output
    }

    function Get-LeaseKey([string] $Subnet) { "$Prefix/subnets/$($Subnet -replace '/', '-')" }
    function Get-LeaseValue([string] $Subnet) { Invoke-TbEtcdctl @('get', '--print-value-only', (Get-LeaseKey $Subnet)) }

    function Get-LinkMac([string] $HostName, [string] $Link) {
        $out = Get-TbOutput $HostName @('ip', '-o', 'link', 'show', 'dev', $Link)
        if ($out -notmatch 'link/ether ([0-9a-f:]{17})') { throw "no MAC in: $out" }
        $Matches[1]
    }

    # The per-peer kernel state a backend programs for the lease $Subnet of $PublicIP (vxlan also
    # the peer's VtepMAC), as the kernel shows it on $HostName; empty strings when absent.
    function Get-PeerState([string] $HostName, [string] $Subnet, [string] $PublicIP, [string] $Mac) {
        $net = ($Subnet -split '/')[0]
        $state = [ordered]@{
            Route = (Get-TbOutput $HostName @('ip', '-4', 'route', 'show', 'exact', $Subnet)).Trim()
            Neigh = ''
            Fdb   = ''
        }
        if ((Invoke-Tb $HostName @('ip', 'link', 'show', 'dev', 'flannel.1')).ExitCode -eq 0) {
            $state.Neigh = (Get-TbOutput $HostName @('ip', 'neigh', 'show', 'dev', 'flannel.1', 'to', $net)).Trim()
            if ($Mac) {
                $state.Fdb = (@((Get-TbOutput $HostName @('bridge', 'fdb', 'show', 'dev', 'flannel.1')) -split "`n" |
                            Where-Object { $_ -like "$Mac *" }) -join "`n").Trim()
            }
        }
        [pscustomobject]$state
    }

    # What each backend must have programmed for a peer, exactly as flanneld v0.20.2 does it.
    function Assert-PeerProgrammed([string] $Backend, [string] $HostName, [string] $Subnet, [string] $PublicIP, [string] $Mac) {
        $s = Get-PeerState $HostName $Subnet $PublicIP $Mac
        $net = ($Subnet -split '/')[0]
        switch ($Backend) {
            'vxlan' {
                $s.Neigh | Should -Match "^$([regex]::Escape($net)) lladdr $([regex]::Escape($Mac)) PERMANENT$" -Because "$HostName has a permanent neighbour for the peer's VTEP"
                $s.Fdb | Should -Match "^$([regex]::Escape($Mac)) dst $([regex]::Escape($PublicIP)) self permanent$" -Because "$HostName sends the peer's VTEP MAC to its PublicIP"
                $s.Route | Should -Match "^$([regex]::Escape($Subnet)) via $([regex]::Escape($net)) dev flannel\.1 onlink$"
            }
            'host-gw' {
                $s.Route | Should -Match "^$([regex]::Escape($Subnet)) via $([regex]::Escape($PublicIP)) dev eth0( |$)"
            }
            default { throw "no per-peer kernel state for $Backend" }
        }
    }

    function Test-PeerGone([string] $HostName, [string] $Subnet, [string] $PublicIP, [string] $Mac) {
        $s = Get-PeerState $HostName $Subnet $PublicIP $Mac
        -not $s.Route -and -not $s.Neigh -and -not $s.Fdb
    }

    # The vxlan lease value flanneld writes; returns the VtepMAC.
    function Get-LeaseVtepMac([string] $Subnet, [string] $PublicIP) {
        $v = Get-LeaseValue $Subnet
        $pattern = '^\{"PublicIP":"' + [regex]::Escape($PublicIP) + '","PublicIPv6":null,"BackendType":"vxlan","BackendData":\{"VNI":1,"VtepMAC":"([0-9a-f]{2}(:[0-9a-f]{2}){5})"\}\}$'
        if ($v -notmatch $pattern) { throw "The lease of $Subnet is '$v', not flannel's vxlan value for PublicIP $PublicIP with VNI 1." }
        $Matches[1]
    }

    # Skips with the agreed sentence while this build refuses the backend (udp always works).
    # FLANNELPS_INTEROP_REFERENCE=flanneld puts real flanneld where the FlannelPS nodes would be:
    # the same tests then check flanneld against itself, which proves their expectations (kernel
    # state, lease values, texts) are flanneld's and not guesses. Only the tests of things flanneld
    # v0.20.2 does not do (recreating a deleted flannel.1, cleaning up after a backend switch) fail.
    $script:Reference = $env:FLANNELPS_INTEROP_REFERENCE -eq 'flanneld'
    if ($Reference) { Write-Host 'FLANNELPS_INTEROP_REFERENCE=flanneld: real flanneld stands in for every FlannelPS node' }

    function Start-Node([string] $HostName, [string] $ArgumentList = '') {
        $n = if ($Reference) {
            $fa = @(if ($ArgumentList -match '-PublicIP (\S+)') { "-public-ip=$($Matches[1])" })
            Start-FlannelTestbedFlanneld -Testbed $tb -HostName $HostName -ArgumentList $fa
        }
        else {
            Start-FlannelTestbedNode -Testbed $tb -HostName $HostName -Module $Module -ArgumentList $ArgumentList
        }
        $script:Nodes[$HostName] = $n
        $n
    }

    function Wait-Node($Node) {
        if ($Node.Name -eq 'flanneld') { Wait-FlannelTestbedFlanneld -Flanneld $Node -TimeoutSeconds 60 }
        else { Wait-FlannelTestbedNode -Node $Node -TimeoutSeconds 90 }
    }

    function Wait-Exit($Process, [int] $TimeoutSeconds = 60) {
        Wait-FlannelTestbedCondition -Description "pid $($Process.Pid) ($($Process.Name)) to exit" -TimeoutSeconds $TimeoutSeconds -IntervalMilliseconds 200 -Condition {
            -not (Test-FlannelTestbedProcessAlive $Process.Pid)
        } | Out-Null
    }

    # The testbed's directory goes away with it: show the logs that report trouble first.
    function Show-TroubleLogs {
        foreach ($p in @($script:Nodes.Values) + @($script:Flanneld)) {
            if ($p -and (Test-Path $p.LogFile) -and (Select-String -Path $p.LogFile -Pattern 'error|exception|fail|panic' -Quiet)) {
                Write-Host "---- $($p.LogFile)"; Get-Content -Tail 30 $p.LogFile | Write-Host
            }
        }
    }
}

Describe 'Mixed cluster with real flanneld v0.20.2: <Backend>' -Tag 'Interop' -ForEach $Backends {
    BeforeAll {
        $script:tb = $null
        $script:Nodes = @{}
        $script:Flanneld = $null
        $script:Skip = $FlanneldSkip
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $script:tb = New-FlannelTestbed -Name "fpi-$RunId-$Short" -HostCount 3
        Invoke-TbEtcdctl @('put', "$Prefix/config", "{`"Network`":`"10.0.0.0/16`",`"Backend`":{`"Type`":`"$Backend`"}}") | Should -Be 'OK'
        $null = Start-Node h1
        $env1 = Wait-Node $Nodes.h1
        $script:Flanneld = Start-FlannelTestbedFlanneld -Testbed $tb -HostName h2
        $env2 = Wait-FlannelTestbedFlanneld -Flanneld $Flanneld -TimeoutSeconds 60
        $script:SubnetEnvs = @{ h1 = $env1; h2 = $env2 }
        $script:Subnets = @{ h1 = Get-LeaseSubnet $env1; h2 = Get-LeaseSubnet $env2 }
        foreach ($h in 'h1', 'h2') {
            $null = Add-FlannelTestbedContainer -Testbed $tb -HostName $h -Subnet $SubnetEnvs[$h].FLANNEL_SUBNET -Mtu ([int]$SubnetEnvs[$h].FLANNEL_MTU)
        }
        $script:C1 = ($tb.Hosts | Where-Object Name -EQ h1).Containers[0]
        $script:C2 = ($tb.Hosts | Where-Object Name -EQ h2).Containers[0]
        Write-Host "$Backend pair up in $($sw.ElapsedMilliseconds) ms: FlannelPS h1 $($Subnets.h1), flanneld h2 $($Subnets.h2)"
    }

    AfterAll {
        if ($script:tb) {
            Show-TroubleLogs
            Remove-FlannelTestbed -Testbed $script:tb
        }
    }

    It 'writes flannel''s lease value on both sides: <Backend>' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        switch ($Backend) {
            'udp' {
                Get-LeaseValue $Subnets.h1 | Should -BeExactly '{"PublicIP":"192.0.2.11","PublicIPv6":null}'
                Get-LeaseValue $Subnets.h2 | Should -BeExactly '{"PublicIP":"192.0.2.12","PublicIPv6":null}'
            }
            'vxlan' {
                Get-LeaseVtepMac $Subnets.h1 '192.0.2.11' | Should -BeExactly (Get-LinkMac h1 flannel.1) -Because 'FlannelPS advertises the MAC of its own flannel.1'
                Get-LeaseVtepMac $Subnets.h2 '192.0.2.12' | Should -BeExactly (Get-LinkMac h2 flannel.1)
            }
            'host-gw' {
                Get-LeaseValue $Subnets.h1 | Should -BeExactly '{"PublicIP":"192.0.2.11","PublicIPv6":null,"BackendType":"host-gw"}'
                Get-LeaseValue $Subnets.h2 | Should -BeExactly '{"PublicIP":"192.0.2.12","PublicIPv6":null,"BackendType":"host-gw"}'
            }
        }
        $Subnets.h1 | Should -Not -Be $Subnets.h2
        $SubnetEnvs.h1.FLANNEL_MTU | Should -BeExactly "$($ExpectedMtu[$Backend])"
        $SubnetEnvs.h2.FLANNEL_MTU | Should -BeExactly "$($ExpectedMtu[$Backend])" -Because 'flanneld derives the same MTU'
    }

    It 'carries pings between the containers both ways, at full MTU with DF set: <Backend>' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        Wait-Ping $C1.Namespace $C2.Address
        (Invoke-Ping $C1.Namespace $C2.Address 3).Output | Should -Match '3 received, 0% packet loss'
        (Invoke-Ping $C2.Namespace $C1.Address 3).Output | Should -Match '3 received, 0% packet loss'
        $payload = $ExpectedMtu[$Backend] - 28
        (Invoke-Tb $C1.Namespace @('ping', '-n', '-M', 'do', '-s', "$payload", '-c', '2', '-i', '0.2', '-W', '1', $C2.Address)).Output | Should -Match '2 received'
        (Invoke-Tb $C2.Namespace @('ping', '-n', '-M', 'do', '-s', "$payload", '-c', '2', '-i', '0.2', '-W', '1', $C1.Address)).Output | Should -Match '2 received'
    }

    if ($Backend -eq 'udp') {
        It 'routes the network into flannel0 on both hosts: udp' {
            if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
            foreach ($h in 'h1', 'h2') {
                (Get-TbOutput $h @('ip', '-4', 'route', 'show', 'exact', '10.0.0.0/16')).Trim() | Should -Match '^10\.0\.0\.0/16 dev flannel0( |$)'
                (Get-TbOutput $h @('ip', 'link', 'show', 'dev', 'flannel0')) | Should -Match '\bmtu 1472\b'
            }
        }
    }

    if ($Backend -eq 'vxlan') {
        It 'creates flannel.1 like flanneld and programs neighbour, FDB and route for the flanneld peer' {
            if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
            $d = Get-TbOutput h1 @('ip', '-d', 'link', 'show', 'dev', 'flannel.1')
            $d | Should -Match '\bmtu 1450\b'
            $d | Should -Match 'vxlan id 1 local 192\.0\.2\.11 dev eth0 .*dstport 8472 nolearning'
            (Get-TbOutput h1 @('ip', '-4', '-o', 'addr', 'show', 'dev', 'flannel.1')) | Should -Match "inet $([regex]::Escape(($Subnets.h1 -split '/')[0]))/32 "
            $mac2 = Get-LeaseVtepMac $Subnets.h2 '192.0.2.12'
            Assert-PeerProgrammed vxlan h1 $Subnets.h2 '192.0.2.12' $mac2
        }
        It 'is programmed by flanneld in turn: flanneld read the FlannelPS lease' {
            if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
            Assert-PeerProgrammed vxlan h2 $Subnets.h1 '192.0.2.11' (Get-LeaseVtepMac $Subnets.h1 '192.0.2.11')
        }
    }

    if ($Backend -eq 'host-gw') {
        It 'routes each peer''s subnet via its PublicIP on eth0, on both hosts' {
            if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
            Assert-PeerProgrammed host-gw h1 $Subnets.h2 '192.0.2.12'
            Assert-PeerProgrammed host-gw h2 $Subnets.h1 '192.0.2.11'  # flanneld read the FlannelPS lease
            (Invoke-Tb h1 @('ip', 'link', 'show', 'dev', 'flannel0')).ExitCode | Should -Not -Be 0 -Because 'host-gw needs no device'
            (Invoke-Tb h1 @('ip', 'link', 'show', 'dev', 'flannel.1')).ExitCode | Should -Not -Be 0
        }
    }

    It 'lets a third node (FlannelPS on h3) join: both others program it and its container reaches both: <Backend>' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $null = Start-Node h3
        $env3 = Wait-Node $Nodes.h3
        $script:Subnets['h3'] = Get-LeaseSubnet $env3
        $Subnets.h3 | Should -Not -BeIn @($Subnets.h1, $Subnets.h2)
        $script:C3 = Add-FlannelTestbedContainer -Testbed $tb -HostName h3 -Subnet $env3.FLANNEL_SUBNET -Mtu ([int]$env3.FLANNEL_MTU)
        Wait-Ping $C1.Namespace $C3.Address
        Wait-Ping $C2.Namespace $C3.Address
        (Invoke-Ping $C3.Namespace $C1.Address 2).Output | Should -Match '2 received, 0% packet loss'
        (Invoke-Ping $C3.Namespace $C2.Address 2).Output | Should -Match '2 received, 0% packet loss'
        if ($Backend -ne 'udp') {
            $script:Mac3 = if ($Backend -eq 'vxlan') { Get-LeaseVtepMac $Subnets.h3 '192.0.2.13' } else { '' }
            Assert-PeerProgrammed $Backend h1 $Subnets.h3 '192.0.2.13' $Mac3
            Assert-PeerProgrammed $Backend h2 $Subnets.h3 '192.0.2.13' $Mac3
        }
    }

    It 'forgets the third node when it leaves (lease deleted): its kernel state goes on both others: <Backend>' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        Stop-Gracefully $Nodes.h3 | Should -BeTrue
        Invoke-TbEtcdctl @('del', (Get-LeaseKey $Subnets.h3)) | Should -Be '1'
        if ($Backend -ne 'udp') {
            foreach ($h in 'h1', 'h2') {
                Wait-FlannelTestbedCondition -Description "$h to drop h3's $Backend state" -TimeoutSeconds 10 -IntervalMilliseconds 200 -Condition {
                    Test-PeerGone $h $Subnets.h3 '192.0.2.13' $Mac3
                } | Out-Null
            }
        }
        (Invoke-Ping $C1.Namespace $C3.Address 2).Output | Should -Match '2 packets transmitted, 0 received'
        (Invoke-Ping $C1.Namespace $C2.Address 2).Output | Should -Match '2 received, 0% packet loss'
        (Invoke-Ping $C2.Namespace $C1.Address 2).Output | Should -Match '2 received, 0% packet loss'
    }

    It 'keeps subnet (and VtepMAC) across a restart of the FlannelPS node, and traffic returns: <Backend>' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $macBefore = if ($Backend -eq 'vxlan') { Get-LinkMac h1 flannel.1 } else { $null }
        Stop-Gracefully $Nodes.h1 | Should -BeTrue
        $null = Start-Node h1
        $again = Wait-Node $Nodes.h1
        Get-LeaseSubnet $again | Should -BeExactly $Subnets.h1
        if ($Backend -eq 'vxlan') {
            Get-LinkMac h1 flannel.1 | Should -BeExactly $macBefore
            Get-LeaseVtepMac $Subnets.h1 '192.0.2.11' | Should -BeExactly $macBefore
            Assert-PeerProgrammed vxlan h2 $Subnets.h1 '192.0.2.11' $macBefore
        }
        Wait-Ping $C2.Namespace $C1.Address
        (Invoke-Ping $C1.Namespace $C2.Address 3).Output | Should -Match '3 received, 0% packet loss'
    }

    if ($Backend -eq 'vxlan') {
        It 'recreates a flannel.1 deleted by hand, and traffic recovers both ways' {
            if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
            $null = Get-TbOutput h1 @('ip', 'link', 'del', 'flannel.1')
            (Invoke-Ping $C1.Namespace $C2.Address 1).ExitCode | Should -Not -Be 0 -Because 'the device and its routes are gone'
            $sw = [Diagnostics.Stopwatch]::StartNew()
            Wait-FlannelTestbedCondition -Description 'flannel.1 to come back' -TimeoutSeconds 30 -IntervalMilliseconds 200 -Condition {
                (Invoke-Tb h1 @('ip', 'link', 'show', 'dev', 'flannel.1')).ExitCode -eq 0
            } | Out-Null
            Wait-Ping $C1.Namespace $C2.Address -TimeoutSeconds 30
            Wait-Ping $C2.Namespace $C1.Address -TimeoutSeconds 30
            Write-Host "flannel.1 recreated and traffic back after $($sw.ElapsedMilliseconds) ms"
            $mac = Get-LinkMac h1 flannel.1
            Get-LeaseVtepMac $Subnets.h1 '192.0.2.11' | Should -BeExactly $mac -Because 'the lease advertises the device that exists'
            Assert-PeerProgrammed vxlan h1 $Subnets.h2 '192.0.2.12' (Get-LeaseVtepMac $Subnets.h2 '192.0.2.12')
            Test-FlannelTestbedProcessAlive $Nodes.h1.Pid | Should -BeTrue
        }
    }

    if ($Backend -eq 'host-gw') {
        It 'puts back a peer route deleted by hand within about 10 s' {
            if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
            $null = Get-TbOutput h1 @('ip', 'route', 'del', $Subnets.h2)
            (Get-TbOutput h1 @('ip', '-4', 'route', 'show', 'exact', $Subnets.h2)).Trim() | Should -BeNullOrEmpty
            $sw = [Diagnostics.Stopwatch]::StartNew()
            Wait-FlannelTestbedCondition -Description 'the route to come back' -TimeoutSeconds 15 -IntervalMilliseconds 200 -Condition {
                (Get-TbOutput h1 @('ip', '-4', 'route', 'show', 'exact', $Subnets.h2)).Trim()
            } | Out-Null
            Write-Host "route repaired after $($sw.ElapsedMilliseconds) ms"
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 12
            Assert-PeerProgrammed host-gw h1 $Subnets.h2 '192.0.2.12'
            Wait-Ping $C1.Namespace $C2.Address -TimeoutSeconds 5
        }

        It 'refuses to start when -PublicIP differs from the interface IP, with flannel''s text (as flanneld does)' {
            if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
            $n = Start-Node h3 '-Interface eth0 -PublicIP 198.51.100.7'
            Wait-Exit $n
            $log = Get-Content -Raw $n.LogFile
            $log | Should -Match ([regex]::Escape($NatRefusal))
            # The reference: real flanneld says the same and exits.
            $f = Start-FlannelTestbedFlanneld -Testbed $tb -HostName h3 -ArgumentList '-public-ip=198.51.100.7' -SubnetFile (Join-Path $tb.WorkDir 'h3-flanneld-nat.env')
            Wait-Exit $f
            Get-Content -Raw $f.LogFile | Should -Match ([regex]::Escape($NatRefusal))
            @((Invoke-TbEtcdctl @('get', '--prefix', '--keys-only', "$Prefix/subnets/")) -split "`n" | Where-Object { $_ }).Count | Should -Be 2 -Because 'neither took a lease'
        }
    }
}

Describe 'Switching a FlannelPS host''s backend on restart: udp -> vxlan -> udp' -Tag 'Interop' {
    BeforeAll {
        $script:tb = $null
        $script:Nodes = @{}
        $script:Flanneld = $null
        $script:Skip = $null
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $script:tb = New-FlannelTestbed -Name "fpi-$RunId-s" -HostCount 1

        function Set-Backend([string] $Type) {
            Invoke-TbEtcdctl @('put', "$Prefix/config", "{`"Network`":`"10.0.0.0/16`",`"Backend`":{`"Type`":`"$Type`"}}") | Should -Be 'OK'
        }
        function Test-Link([string] $Name) { (Invoke-Tb h1 @('ip', 'link', 'show', 'dev', $Name)).ExitCode -eq 0 }
        function Get-Routes { (Get-TbOutput h1 @('ip', '-4', 'route', 'show')).Trim() }
    }

    AfterAll {
        if ($script:tb) {
            Show-TroubleLogs
            Remove-FlannelTestbed -Testbed $script:tb
        }
    }

    It 'leaves no flannel0 after the vxlan start and no flannel.1 after the udp one' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        Set-Backend udp
        $n = Start-Node h1
        $e = Wait-Node $n
        Test-Link flannel0 | Should -BeTrue
        Stop-Gracefully $n | Should -BeTrue

        Set-Backend vxlan
        $n = Start-Node h1
        $r = Wait-Node $n
        Test-Link flannel.1 | Should -BeTrue
        Test-Link flannel0 | Should -BeFalse
        Get-Routes | Should -Not -Match 'flannel0'
        Get-LeaseSubnet $r | Should -BeExactly (Get-LeaseSubnet $e) -Because 'the subnet file keeps the subnet across the switch'
        Get-LeaseVtepMac (Get-LeaseSubnet $r) '192.0.2.11' | Should -BeExactly (Get-LinkMac h1 flannel.1) -Because 'the lease now carries the vxlan attributes'
        Stop-Gracefully $n | Should -BeTrue

        Set-Backend udp
        $n = Start-Node h1
        $e = Wait-Node $n
        Test-Link flannel0 | Should -BeTrue
        Test-Link flannel.1 | Should -BeFalse -Because 'the udp start removes what vxlan left'
        Get-Routes | Should -Not -Match 'flannel\.1'
        Get-LeaseValue (Get-LeaseSubnet $e) | Should -BeExactly '{"PublicIP":"192.0.2.11","PublicIPv6":null}'
        Stop-Gracefully $n | Should -BeTrue
    }
}
