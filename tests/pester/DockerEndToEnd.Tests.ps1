# Issue 4 end to end: the seed's whole recipe on a two-host testbed with real FlannelPS nodes and
# a real dockerd per host. Node -> subnet.env -> docker_opts.env (Export-FlannelDockerOptions, and
# the module's mk-docker-opts drop-in) -> Set-FlannelDockerBridge -> dockerd $DOCKER_OPTS ->
# busybox containers that talk across hosts through the overlay, past Docker's FORWARD DROP.
# Every daemon, mount and namespace is removed in AfterAll, also after a failure.
BeforeDiscovery {
    $script:skipDocker = $env:FLANNELPS_TEST_DOCKER -eq '0'
}

Describe 'Docker on a FlannelPS overlay, end to end' -Tag 'Docker' -Skip:$skipDocker {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
        Import-Module (Join-Path $PSScriptRoot '../docker/DockerHost.psm1') -Force
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        Assert-TestNamespace
        if (-not (Test-TestDockerAvailable)) { throw 'dockerd/nsenter/busybox-static missing: run tools/install-deps.sh --docker' }
        $script:Module = if ($env:FLANNELPS_MODULE) { $env:FLANNELPS_MODULE } else { (Resolve-Path (Join-Path $PSScriptRoot '../../out/FlannelPS/FlannelPS.psd1')).Path }
        Import-Module $Module -Force
        $script:MkDockerOpts = Join-Path (Split-Path $Module) 'bin/mk-docker-opts'
        $runId = if ($env:FLANNELPS_TEST_RUNID) { $env:FLANNELPS_TEST_RUNID } else { $PID }
        $script:Daemons = [Collections.Generic.List[object]]::new()
        $script:tb = $null

        function Invoke-Tb([string] $Namespace, [string[]] $Command, [int] $TimeoutSeconds = 30) {
            Invoke-FlannelTestbedCommand -Testbed $tb -Namespace $Namespace -Command $Command -TimeoutSeconds $TimeoutSeconds -PassThru
        }

        function Get-TbHost([string] $Name) { $tb.Hosts | Where-Object Name -EQ $Name }

        # Set-FlannelDockerBridge acts on the namespace it runs in: a pwsh inside the host.
        function Set-BridgeInHost([string] $HostName) {
            $h = Get-TbHost $HostName
            $cmd = "Import-Module '$Module'; Set-FlannelDockerBridge -SubnetFile '$($h.SubnetFile)' -Confirm:`$false"
            $r = Invoke-Tb $HostName ((Get-FlannelTestbedPwshCommand) + @('-NoProfile', '-NonInteractive', '-Command', $cmd)) -TimeoutSeconds 60
            if ($r.ExitCode -ne 0) { throw "Set-FlannelDockerBridge in ${HostName}: $($r.Error) $($r.Output)" }
        }

        # A dockerd in the host from its docker_opts.env, the busybox image, and one container.
        function Start-HostDocker([string] $HostName) {
            $h = Get-TbHost $HostName
            $d = Start-TestDockerd -Namespace $h.Namespace -OptsFile (Join-Path $h.WorkDir 'docker_opts.env')
            $Daemons.Add($d)
            $h | Add-Member -Force Daemon $d
            $null = New-TestBusyboxImage -Daemon $d
            $null = Invoke-TestDocker $d run -d --init --name fpe2-c fpdk-busybox sleep 600
            $ip = (Invoke-TestDocker $d inspect -f '{{.NetworkSettings.IPAddress}}' fpe2-c | Select-Object -Last 1).Trim()
            $h | Add-Member -Force ContainerIp $ip
        }

        # Bounded: -c pings, 1 s wait each.
        function Invoke-ContainerPing([string] $From, [string] $To, [int] $Count = 3) {
            (Invoke-TestDocker (Get-TbHost $From).Daemon -AllowFailure exec fpe2-c ping -c $Count -W 1 $To) -join "`n"
        }

        function Wait-ContainerPing([string] $From, [string] $To, [int] $TimeoutSeconds = 30) {
            Wait-FlannelTestbedCondition -Description "container ping $From -> $To" -TimeoutSeconds $TimeoutSeconds -IntervalMilliseconds 200 -Condition {
                (Invoke-ContainerPing $From $To 1) -match ' 1 packets received'
            } | Out-Null
        }

        function Get-SeedLine([string] $Subnet) { "DOCKER_OPTS=`" --bip=$Subnet --ip-masq=false --mtu=1472`"`n" }

        $sw = [Diagnostics.Stopwatch]::StartNew()
        $script:tb = New-FlannelTestbed -Name "fpe2-$runId-d" -HostCount 2
        (Invoke-FlannelTestbedEtcdctl -Testbed $tb put /coreos.com/network/config '{"NetWork":"10.0.0.0/16"}') | Should -Match 'OK'
        # -IpMasq as the seed's flanneld: docker then gets --ip-masq=false.
        $script:Nodes = @{}
        foreach ($n in 'h1', 'h2') { $Nodes[$n] = Start-FlannelTestbedNode -Testbed $tb -HostName $n -Module $Module -ArgumentList '-IpMasq' }
        $script:SubnetEnvs = @{}
        foreach ($n in 'h1', 'h2') { $SubnetEnvs[$n] = Wait-FlannelTestbedNode -Node $Nodes[$n] -TimeoutSeconds 90 }
        $nodesMs = $sw.ElapsedMilliseconds

        $h1 = Get-TbHost h1; $h2 = Get-TbHost h2
        Export-FlannelDockerOptions -SubnetFile $h1.SubnetFile -Path (Join-Path $h1.WorkDir 'docker_opts.env') -Combined
        # The drop-in replacement for flannel's mk-docker-opts.sh, as a unit's ExecStartPre would run it.
        $mk = & $MkDockerOpts -f $h2.SubnetFile -d (Join-Path $h2.WorkDir 'docker_opts.env') -c 2>&1
        if ($LASTEXITCODE -ne 0) { throw "mk-docker-opts failed ($LASTEXITCODE): $mk" }
        foreach ($n in 'h1', 'h2') { Set-BridgeInHost $n }
        foreach ($n in 'h1', 'h2') { Start-HostDocker $n }
        Wait-ContainerPing h1 $h2.ContainerIp
        Write-Host "nodes in $nodesMs ms, docker overlay up in $($sw.ElapsedMilliseconds) ms: containers $($h1.ContainerIp) and $($h2.ContainerIp)"
    }

    AfterAll {
        foreach ($d in $script:Daemons) { Stop-TestDockerd -Daemon $d }
        if ($script:tb) {
            foreach ($n in $script:Nodes.Values) {
                if ((Test-Path $n.LogFile) -and (Select-String -Path $n.LogFile -Pattern 'error|exception|fail' -Quiet)) {
                    Write-Host "---- $($n.LogFile)"; Get-Content -Tail 30 $n.LogFile | Write-Host
                }
            }
            Remove-FlannelTestbed -Testbed $script:tb
        }
    }

    It 'writes the seed''s DOCKER_OPTS line for each host, the same from the cmdlet and from mk-docker-opts' {
        foreach ($n in 'h1', 'h2') {
            $h = Get-TbHost $n
            [IO.File]::ReadAllText((Join-Path $h.WorkDir 'docker_opts.env')) | Should -BeExactly (Get-SeedLine $SubnetEnvs[$n].FLANNEL_SUBNET)
        }
        $viaCmdlet = Join-Path $tb.WorkDir 'h2-cmdlet-opts.env'
        Export-FlannelDockerOptions -SubnetFile (Get-TbHost h2).SubnetFile -Path $viaCmdlet -Combined
        [IO.File]::ReadAllText($viaCmdlet) | Should -BeExactly ([IO.File]::ReadAllText((Join-Path (Get-TbHost h2).WorkDir 'docker_opts.env')))
    }

    It 'gives docker0 on <_> the host''s FLANNEL_SUBNET and MTU 1472, and its container an address in it' -ForEach 'h1', 'h2' {
        $h = Get-TbHost $_
        $link = (Invoke-Tb $_ @('ip', '-o', '-4', 'addr', 'show', 'dev', 'docker0')).Output
        $link | Should -Match ([regex]::Escape("inet $($SubnetEnvs[$_].FLANNEL_SUBNET) "))
        (Invoke-Tb $_ @('ip', '-o', 'link', 'show', 'dev', 'docker0')).Output | Should -Match '\bmtu 1472\b'
        (Invoke-TestDocker $h.Daemon exec fpe2-c cat /sys/class/net/eth0/mtu | Select-Object -Last 1).Trim() | Should -Be '1472'
        $h.ContainerIp | Should -BeLike ($SubnetEnvs[$_].FLANNEL_SUBNET -replace '\.1/24$', '.*')
    }

    It 'lets the container on h1 ping the container on h2 by its overlay address, and back (ttl=60)' {
        $h1 = Get-TbHost h1; $h2 = Get-TbHost h2
        $out = Invoke-ContainerPing h1 $h2.ContainerIp 3
        $out | Should -Match '3 packets transmitted, 3 packets received'
        $out | Should -Match 'ttl=60'
        Invoke-ContainerPing h2 $h1.ContainerIp 3 | Should -Match '3 packets transmitted, 3 packets received'
    }

    It 'keeps container addresses across the overlay and masquerades only traffic leaving it' {
        $h1 = Get-TbHost h1; $h2 = Get-TbHost h2
        $cap = Start-FlannelTestbedCapture -Testbed $tb -Namespace h2 -Arguments '-l', '-i', 'docker0', '-c', '1', 'icmp[icmptype] == 8'
        $null = Invoke-ContainerPing h1 $h2.ContainerIp 1
        Wait-FlannelTestbedCapture -Capture $cap -Description 'the echo request on h2''s docker0' | Should -Match ('IP {0} > {1}: ICMP echo request' -f [regex]::Escape($h1.ContainerIp), [regex]::Escape($h2.ContainerIp))
        # The underlay gateway has no route to 10.0.0.0/16: the reply comes back only because
        # flannel's FLANNEL-POSTRTG masquerades (Docker runs with --ip-masq=false).
        Invoke-ContainerPing h1 $tb.UnderlayGateway 2 | Should -Match '2 packets transmitted, 2 packets received'
    }

    It 'carries a 4 MB TCP transfer between the containers intact' {
        $h1 = Get-TbHost h1; $h2 = Get-TbHost h2
        $sum = (Invoke-TestDocker $h2.Daemon exec fpe2-c sh -c 'head -c 4194304 /dev/urandom > /tmp/tx && sha256sum /tmp/tx' | Select-Object -Last 1) -split '\s+' | Select-Object -First 1
        $null = Invoke-TestDocker $h2.Daemon exec -d fpe2-c nc -l -p 5001 -e cat /tmp/tx
        Wait-FlannelTestbedCondition -Description 'nc listening in the h2 container' -TimeoutSeconds 10 -Condition {
            (Invoke-TestDocker $h2.Daemon exec fpe2-c netstat -ltn) -match ':5001 '
        } | Out-Null
        $null = Invoke-TestDocker $h1.Daemon exec fpe2-c nc -w 5 $h2.ContainerIp 5001 -e sh -c 'cat > /tmp/rx'
        $got = Invoke-TestDocker $h1.Daemon exec fpe2-c sh -c 'wc -c < /tmp/rx; sha256sum /tmp/rx'
        $got[0].Trim() | Should -Be '4194304'
        ($got[1] -split '\s+')[0] | Should -Be $sum
        $sum | Should -Match '^[0-9a-f]{64}$'
    }

    It 'has Docker''s FORWARD DROP policy, and FLANNEL-FWD is what lets overlay traffic through' {
        $h1 = Get-TbHost h1; $h2 = Get-TbHost h2
        foreach ($n in 'h1', 'h2') {
            $fwd = (Invoke-Tb $n @('iptables', '-w', '5', '-S', 'FORWARD')).Output
            $fwd | Should -Match '(?m)^-P FORWARD DROP$'
            $fwd | Should -Match '(?m)^-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD$'
            $fwd | Should -Match '(?m)^-A FORWARD .*-j DOCKER'
            # --ip-masq=false: Docker does not masquerade the flannel subnet; flannel's chain does.
            $nat = (Invoke-Tb $n @('iptables', '-w', '5', '-t', 'nat', '-S', 'POSTROUTING')).Output
            $nat | Should -Not -Match ([regex]::Escape("-s $(($SubnetEnvs[$n].FLANNEL_SUBNET) -replace '\.1/24$', '.0/24') ! -o docker0 -j MASQUERADE"))
            $nat | Should -Match 'FLANNEL-POSTRTG'
        }
        # Short-circuit FLANNEL-FWD on h2 (flannel's resync only restores missing rules, so a
        # foreign RETURN in front stays): new connections into h2's containers meet the DROP policy.
        $ret = @('-m', 'comment', '--comment', 'fpe2 test', '-j', 'RETURN')
        (Invoke-Tb h2 (@('iptables', '-w', '5', '-I', 'FLANNEL-FWD', '1') + $ret)).ExitCode | Should -Be 0
        try {
            Invoke-ContainerPing h1 $h2.ContainerIp 2 | Should -Match '2 packets transmitted, 0 packets received'
        }
        finally {
            (Invoke-Tb h2 (@('iptables', '-w', '5', '-D', 'FLANNEL-FWD') + $ret)).ExitCode | Should -Be 0
        }
        Invoke-ContainerPing h1 $h2.ContainerIp 2 | Should -Match '2 packets transmitted, 2 packets received'
    }

    It 'keeps the subnet when the node restarts, and dockerd restarted with regenerated options works again' {
        $h1 = Get-TbHost h1; $h2 = Get-TbHost h2
        $opts = Join-Path $h1.WorkDir 'docker_opts.env'
        $before = [IO.File]::ReadAllText($opts)
        Stop-FlannelTestbedProcess -Process $Nodes.h1 -TimeoutSeconds 15
        $Nodes.h1 = Start-FlannelTestbedNode -Testbed $tb -HostName h1 -Module $Module -ArgumentList '-IpMasq'
        $again = Wait-FlannelTestbedNode -Node $Nodes.h1 -TimeoutSeconds 90
        $again.FLANNEL_SUBNET | Should -BeExactly $SubnetEnvs.h1.FLANNEL_SUBNET
        Export-FlannelDockerOptions -SubnetFile $h1.SubnetFile -Path $opts -Combined
        [IO.File]::ReadAllText($opts) | Should -BeExactly $before

        Stop-TestDockerd -Daemon $h1.Daemon
        Set-BridgeInHost h1
        Start-HostDocker h1
        (Invoke-Tb h1 @('ip', '-o', '-4', 'addr', 'show', 'dev', 'docker0')).Output | Should -Match ([regex]::Escape("inet $($again.FLANNEL_SUBNET) "))
        $h1.ContainerIp | Should -BeLike ($again.FLANNEL_SUBNET -replace '\.1/24$', '.*')
        Wait-ContainerPing h2 $h1.ContainerIp
        Invoke-ContainerPing h1 $h2.ContainerIp 3 | Should -Match '3 packets transmitted, 3 packets received'
        Invoke-ContainerPing h2 $h1.ContainerIp 3 | Should -Match '3 packets transmitted, 3 packets received'
    }
}
