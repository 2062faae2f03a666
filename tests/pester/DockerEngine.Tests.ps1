# Two real dockerd, one per host namespace joined by a veth (192.0.2.0/24 underlay), started from
# docker_opts.env files that Export-FlannelDockerOptions made from hand-written subnet.env files.
# Containers ping across hosts over static routes: first Docker's FORWARD DROP blocks it, then the
# ACCEPT rules flannel adds let it through. This isolates the Docker half (options, bridge, Docker's
# own iptables) from the nodes; DockerEndToEnd.Tests.ps1 runs the same engines with real FlannelPS
# nodes, whose FLANNEL-FWD rules do that job. tests/docker/DockerHost.psm1 is the shared part.
BeforeDiscovery {
    $script:skipDocker = $env:FLANNELPS_TEST_DOCKER -eq '0'
}

Describe 'Docker engines on flannel subnets' -Tag 'Docker' -Skip:$skipDocker {
    BeforeAll {
        $modulePath = if ($env:FLANNELPS_MODULE) { $env:FLANNELPS_MODULE } else { Join-Path $PSScriptRoot '../../out/FlannelPS/FlannelPS.psd1' }
        Import-Module $modulePath -Force
        Import-Module (Join-Path $PSScriptRoot '../docker/DockerHost.psm1') -Force
        if (-not (Test-TestDockerAvailable)) { throw 'dockerd/nsenter/busybox-static missing: run tools/install-deps.sh --docker' }

        $runId = if ($env:FLANNELPS_TEST_RUNID) { $env:FLANNELPS_TEST_RUNID } else { $PID }
        $script:hosts = @(
            [pscustomobject]@{ Ns = "fpdk-$runId-dka"; Underlay = '192.0.2.1'; Subnet = '10.0.5.1/24'; Daemon = $null; Container = $null; Ip = $null }
            [pscustomobject]@{ Ns = "fpdk-$runId-dkb"; Underlay = '192.0.2.2'; Subnet = '10.0.6.1/24'; Daemon = $null; Container = $null; Ip = $null }
        )
        $script:work = (New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) "fpdk-engine-$PID")).FullName
        function script:Run([string] $What) {
            # Runs an `ip`/`iptables` command line; throws with its output when it fails.
            $out = sh -c "$What" 2>&1
            if ($LASTEXITCODE) { throw "$What failed: $out" }
            $out
        }

        $a, $b = $hosts
        foreach ($h in $hosts) { Run "ip netns add $($h.Ns) && ip -n $($h.Ns) link set lo up" }
        Run "ip -n $($a.Ns) link add eth0 type veth peer name eth0 netns $($b.Ns)"
        foreach ($h in $hosts) {
            Run "ip -n $($h.Ns) addr add $($h.Underlay)/24 dev eth0 && ip -n $($h.Ns) link set eth0 up"
            # /run is shared by all namespaces: per-host subnet.env and docker_opts.env.
            $dir = New-Item -ItemType Directory "$work/$($h.Ns)"
            [IO.File]::WriteAllText("$dir/subnet.env", "FLANNEL_NETWORK=10.0.0.0/16`nFLANNEL_SUBNET=$($h.Subnet)`nFLANNEL_MTU=1472`nFLANNEL_IPMASQ=true`n")
            $h | Add-Member OptsFile "$dir/docker_opts.env"
            Export-FlannelDockerOptions -SubnetFile "$dir/subnet.env" -Path $h.OptsFile -Combined
        }
        # The overlay stand-in: each host routes the other's container subnet via its underlay address.
        Run "ip -n $($a.Ns) route add 10.0.6.0/24 via $($b.Underlay)"
        Run "ip -n $($b.Ns) route add 10.0.5.0/24 via $($a.Underlay)"

        $sw = [Diagnostics.Stopwatch]::StartNew()
        foreach ($h in $hosts) { $h.Daemon = Start-TestDockerd -Namespace $h.Ns -OptsFile $h.OptsFile }
        $script:startMs = $sw.ElapsedMilliseconds
        foreach ($h in $hosts) {
            New-TestBusyboxImage -Daemon $h.Daemon | Out-Null
            $h.Container = (Invoke-TestDocker $h.Daemon run -d --init --name "fpdk-c" fpdk-busybox sleep 600 | Select-Object -Last 1)
            $h.Ip = (Invoke-TestDocker $h.Daemon inspect -f '{{.NetworkSettings.IPAddress}}' fpdk-c | Select-Object -Last 1).Trim()
        }
        Write-Host "two dockerd up in $startMs ms; containers at $($a.Ip) and $($b.Ip)"
        function script:Ping($From, [string] $To) {
            # Bounded: 3 packets, 1 s wait each.
            Invoke-TestDocker $From.Daemon -AllowFailure exec fpdk-c ping -c 3 -W 1 -q $To | Out-String
        }
    }
    AfterAll {
        foreach ($h in $script:hosts) {
            if ($h.Daemon) { Stop-TestDockerd -Daemon $h.Daemon }
            ip netns del $h.Ns 2>$null
        }
        if ($script:work) { Remove-Item -Recurse -Force $script:work -ErrorAction SilentlyContinue }
    }

    It 'docker_opts.env holds the seed line for each host' {
        [IO.File]::ReadAllText($hosts[0].OptsFile) | Should -BeExactly "DOCKER_OPTS=`" --bip=10.0.5.1/24 --ip-masq=false --mtu=1472`"`n"
        [IO.File]::ReadAllText($hosts[1].OptsFile) | Should -BeExactly "DOCKER_OPTS=`" --bip=10.0.6.1/24 --ip-masq=false --mtu=1472`"`n"
    }

    It 'each docker0 has FLANNEL_SUBNET and MTU 1472 (<_.Ns>)' -ForEach @(0, 1) {
        $h = $hosts[$_]
        (ip -n $h.Ns -4 -o addr show dev docker0) -join "`n" | Should -Match ([regex]::Escape("inet $($h.Subnet) "))
        (ip -n $h.Ns -o link show dev docker0) -join "`n" | Should -Match 'mtu 1472'
        (Invoke-TestDocker $h.Daemon exec fpdk-c cat /sys/class/net/eth0/mtu | Select-Object -Last 1).Trim() | Should -Be '1472'
        $h.Ip | Should -BeLike ($h.Subnet -replace '\.1/24$', '.*')
    }

    It 'Docker did not masquerade the flannel subnet (--ip-masq=false)' {
        $nat = (ip netns exec $hosts[0].Ns iptables -t nat -S POSTROUTING) -join "`n"
        $nat | Should -Not -Match 'MASQUERADE'
    }

    It 'Docker''s FORWARD policy DROP blocks cross-host container traffic' {
        (ip netns exec $hosts[1].Ns iptables -S FORWARD) -join "`n" | Should -Match '-P FORWARD DROP'
        Ping $hosts[0] $hosts[1].Ip | Should -Match '100% packet loss'
    }

    It 'flannel''s FORWARD ACCEPT for 10.0.0.0/16 lets containers ping across hosts' {
        foreach ($h in $hosts) {
            Run "ip netns exec $($h.Ns) iptables -A FORWARD -s 10.0.0.0/16 -m comment --comment 'flanneld forward' -j ACCEPT"
            Run "ip netns exec $($h.Ns) iptables -A FORWARD -d 10.0.0.0/16 -m comment --comment 'flanneld forward' -j ACCEPT"
        }
        Ping $hosts[0] $hosts[1].Ip | Should -Match ' 0% packet loss'
        Ping $hosts[1] $hosts[0].Ip | Should -Match ' 0% packet loss'
    }
}
