# The module's flanneld command as the seed runs it: a real process started by sh, against the test
# etcd, inside the suite's test namespace (underlay: a veth pair there). Exit codes, signals, logs,
# FLANNELD_* variables, /healthz (liveness) and /readyz (readiness), and systemd's READY=1 over a real
# unix datagram socket. One test runs real flanneld v0.20.2 beside it on an etcd prefix without a
# leading slash; it skips when that binary is absent (FLANNELD_BINARY overrides its path).
BeforeDiscovery {
    $script:realFlanneld = if ($env:FLANNELD_BINARY) { $env:FLANNELD_BINARY } else { Join-Path $PSScriptRoot '../../../shared/anchors/flanneld-v0.20.2' }
    $script:noRealFlanneld = -not (Test-Path -LiteralPath $realFlanneld)
    if ($noRealFlanneld) { Write-Host "Flanneld: the prefix test against real flanneld is skipped: no binary at $realFlanneld (set FLANNELD_BINARY)" }
}

BeforeAll {
    Import-Module $env:FLANNELPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Assert-TestNamespace
    $script:etcd = Get-TestEtcdEndpoint
    $script:flanneld = Join-Path (Split-Path $env:FLANNELPS_MODULE) 'bin/flanneld'
    $script:realFlanneld = if ($env:FLANNELD_BINARY) { $env:FLANNELD_BINARY } else { Join-Path $PSScriptRoot '../../../shared/anchors/flanneld-v0.20.2' }
    $script:version = (Import-PowerShellDataFile $env:FLANNELPS_MODULE).ModuleVersion
    $script:ul = New-TestUnderlay -Name "fpsv$PID" -Address 192.0.2.121/24
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "fpsv-flanneld-$PID"
    New-Item -ItemType Directory $dir -Force | Out-Null
    $script:started = [Collections.Generic.List[object]]::new()

    function Start-Flanneld {
        # The seed's line, `flanneld ... >> log 2>&1 &`, run by sh; sh then waits, so its exit code is
        # flanneld's. Returns the sh process, flanneld's pid and the log path. -Binary: another flanneld.
        param([string[]] $Arguments, [hashtable] $Environment = @{}, [string] $Binary = $flanneld)
        $id = [guid]::NewGuid().ToString('n').Substring(0, 8)
        $log = Join-Path $dir "$id.log"
        $pidFile = Join-Path $dir "$id.pid"
        $psi = [Diagnostics.ProcessStartInfo]::new('/bin/sh')
        foreach ($a in @('-c', 'f=$1; l=$2; p=$3; shift 3; "$f" "$@" >> "$l" 2>&1 & echo $! > "$p"; wait $!', 'sh', $Binary, $log, $pidFile) + $Arguments) {
            $psi.ArgumentList.Add($a)
        }
        $psi.UseShellExecute = $false
        foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
        $proc = [Diagnostics.Process]::Start($psi)
        $flanneldPid = Wait-Until { if (Test-Path $pidFile) { [int] (Get-Content $pidFile) } } -Because 'flanneld pid'
        $run = [pscustomobject]@{ Process = $proc; Pid = $flanneldPid; Log = $log }
        $script:started.Add($run)
        $run
    }

    function Stop-Flanneld($Run, [string] $Signal = 'TERM') {
        & kill "-$Signal" $Run.Pid
        if (-not $Run.Process.WaitForExit(20000)) { throw "flanneld did not exit within 20 s of SIG$Signal" }
        $Run.Process.ExitCode
    }

    function Invoke-Flanneld([string[]] $Arguments) {
        # Short runs (flag errors, --version): stdout and stderr apart.
        $out = Join-Path $dir 'out.txt'; $err = Join-Path $dir 'err.txt'
        $p = Start-Process -FilePath $flanneld -ArgumentList $Arguments -RedirectStandardOutput $out -RedirectStandardError $err -PassThru -Wait
        [pscustomobject]@{ ExitCode = $p.ExitCode; StdOut = (Get-Content $out -Raw) ?? ''; StdErr = (Get-Content $err -Raw) ?? '' }
    }

    function Get-FreePort {
        $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop(); $port
    }

    function Get-Http([string] $Url) {
        try {
            $r = Invoke-WebRequest -Uri $Url -SkipHttpErrorCheck -TimeoutSec 3 -UseBasicParsing
            [pscustomobject]@{ Status = [int] $r.StatusCode; Body = "$($r.Content)" }
        }
        catch { $null } # not listening yet
    }
}

AfterAll {
    foreach ($r in $script:started) {
        if (-not $r.Process.HasExited) { & kill -KILL $r.Pid 2>$null; $r.Process.WaitForExit(5000) | Out-Null }
    }
    Remove-TestUnderlay $ul
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'flanneld (the drop-in command)' {
    BeforeEach {
        $script:prefix = New-TestPrefix 'flanneld'
        $script:subnetFile = Join-Path $dir "$([guid]::NewGuid().ToString('n')).env"
        $script:node = @("--iface=$ul", '--public-ip=192.0.2.121', "--subnet-file=$subnetFile", "--etcd-prefix=$prefix")
    }

    It 'runs the seed line: writes subnet.env with FLANNEL_IPMASQ=true, logs glog-style, and SIGTERM exits 0 cleanly' {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        $run = Start-Flanneld (@("--etcd-endpoints=$etcd", '--ip-masq=true') + $node)
        Wait-Until { Test-Path $subnetFile } -TimeoutSec 30 -Because 'subnet.env' | Out-Null
        $lease = Get-FlannelSubnetLease -EtcdEndpoint $etcd -EtcdPrefix $prefix
        $first = $lease.Subnet -replace '\.0/24$', '.1/24'
        Get-Content $subnetFile -Raw | Should -BeExactly "FLANNEL_NETWORK=10.0.0.0/16`nFLANNEL_SUBNET=$first`nFLANNEL_MTU=1500`nFLANNEL_IPMASQ=true`n"
        # --ip-masq installs flannel's masquerade chain (alloc: no FORWARD rules, as NodeTrafficRules decides).
        (& iptables -t nat -S FLANNEL-POSTRTG) -join "`n" | Should -Match ([regex]::Escape("-A FLANNEL-POSTRTG -s $($lease.Subnet) -d 10.0.0.0/16"))

        Stop-Flanneld $run 'TERM' | Should -Be 0
        $log = Get-Content $run.Log
        ($log -match "^I\d{4} \d\d:\d\d:\d\d\.\d{6} +$($run.Pid) flanneld\] Lease acquired: $([regex]::Escape($lease.Subnet))$") | Should -HaveCount 1
        $log[-1] | Should -Match '^I\d{4} .* flanneld\] Exiting cleanly\.\.\.$'
        ($log | Select-String 'Performing the operation') | Should -BeNullOrEmpty
    }

    It 'stops cleanly on SIGINT too, even started in the background by sh (exit 0)' {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        $run = Start-Flanneld (@("--etcd-endpoints=$etcd") + $node)
        Wait-Until { Test-Path $subnetFile } -TimeoutSec 30 -Because 'subnet.env' | Out-Null
        Stop-Flanneld $run 'INT' | Should -Be 0
        (Get-Content $run.Log)[-1] | Should -Match 'Exiting cleanly\.\.\.$'
    }

    It 'exits 1 with flannel''s message for a renew margin out of range' {
        $r = Invoke-Flanneld @("--etcd-endpoints=$etcd", '--subnet-lease-renew-margin=0')
        $r.ExitCode | Should -Be 1
        $r.StdErr.Trim() | Should -BeExactly 'Invalid subnet-lease-renew-margin option, out of acceptable range'
        $r = Invoke-Flanneld @('--subnet-lease-renew-margin=1440')
        $r.ExitCode | Should -Be 1
        $r.StdErr.Trim() | Should -BeExactly 'Invalid subnet-lease-renew-margin option, out of acceptable range'
    }

    It 'exits 1 with an E line when the node cannot start (unknown interface)' {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        $run = Start-Flanneld @("--etcd-endpoints=$etcd", "--etcd-prefix=$prefix", '--iface=nosuch0', "--subnet-file=$subnetFile")
        $run.Process.WaitForExit(30000) | Should -BeTrue
        $run.Process.ExitCode | Should -Be 1
        # @(): the check now fails before any other log line, and one line would index as a string.
        @(Get-Content $run.Log)[-1] | Should -Match "^E\d{4} .* flanneld\] .*nosuch0"
        Test-Path $subnetFile | Should -BeFalse
    }

    It 'exits 1 with the same text as Start-FlannelNode for a --public-ip that is not an address' {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        $run = Start-Flanneld @("--etcd-endpoints=$etcd", "--etcd-prefix=$prefix", '--public-ip=banana', "--subnet-file=$subnetFile")
        $run.Process.WaitForExit(30000) | Should -BeTrue
        $run.Process.ExitCode | Should -Be 1
        @(Get-Content $run.Log)[-1] | Should -Match ([regex]::Escape("-PublicIP 'banana' is not an IPv4 address (e.g. 192.0.2.10)."))
        Test-Path $subnetFile | Should -BeFalse
    }

    It 'exits 2 on an unknown flag, with Go''s message and the usage' {
        $r = Invoke-Flanneld @('--no-such-flag')
        $r.ExitCode | Should -Be 2
        $r.StdErr | Should -Match '^flag provided but not defined: -no-such-flag'
        $r.StdErr | Should -Match '-etcd-endpoints string'
    }

    It 'exits 2 on a real flanneld flag FlannelPS lacks, saying it is not supported' {
        $r = Invoke-Flanneld @('--kube-subnet-mgr')
        $r.ExitCode | Should -Be 2
        $r.StdErr | Should -Match '^flag -kube-subnet-mgr is a flanneld flag that is not supported by FlannelPS'
    }

    It '--help prints each flag with its default as Go''s flag package does, and exits 0' {
        $r = Invoke-Flanneld @('--help')
        $r.ExitCode | Should -Be 0
        $r.StdErr | Should -Match ([regex]::Escape("  -etcd-prefix string`n    `tetcd prefix (default `"/coreos.com/network`")`n"))
        $r.StdErr | Should -Match ([regex]::Escape("  -iptables-forward-rules`n    `tadd default accept rules to FORWARD chain in iptables (default true)`n"))
        $r.StdErr | Should -Match ([regex]::Escape("  -iface-regex value`n"))
    }

    It 'picks the interface by --iface-regex (address, then name) and by --iface-can-reach, and exits 1 when nothing matches' {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        $common = @("--etcd-endpoints=$etcd", "--etcd-prefix=$prefix", "--subnet-file=$subnetFile")
        foreach ($choice in @('--iface-regex=^192\.0\.2\.121$', "--iface-regex=^$ul`$", '--iface-can-reach=192.0.2.200')) {
            Remove-Item $subnetFile -ErrorAction SilentlyContinue
            $run = Start-Flanneld (@($common) + $choice)
            Wait-Until { Test-Path $subnetFile } -TimeoutSec 30 -Because "subnet.env with $choice" | Out-Null
            (Get-FlannelSubnetLease -EtcdEndpoint $etcd -EtcdPrefix $prefix).PublicIP | Should -Be '192.0.2.121' -Because $choice
            ((Get-Content $run.Log) -match "Using interface with name $ul and address 192\.0\.2\.121") | Should -HaveCount 1
            Stop-Flanneld $run | Should -Be 0
        }
        Remove-Item $subnetFile -ErrorAction SilentlyContinue
        $run = Start-Flanneld (@($common) + '--iface-regex=^nomatch[0-9]$')
        $run.Process.WaitForExit(30000) | Should -BeTrue
        $run.Process.ExitCode | Should -Be 1
        (Get-Content $run.Log)[-1] | Should -Match '^E\d{4} .* flanneld\] .*nomatch'
        Test-Path $subnetFile | Should -BeFalse
    }

    It 'prints --version on stderr and exits 0' {
        $r = Invoke-Flanneld @('--version')
        $r.ExitCode | Should -Be 0
        $r.StdOut | Should -BeNullOrEmpty
        $r.StdErr.Trim() | Should -BeExactly "v$version (FlannelPS)"
    }

    It 'after SIGKILL, a new start takes the same subnet again and writes subnet.env' {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        $run = Start-Flanneld (@("--etcd-endpoints=$etcd") + $node)
        Wait-Until { Test-Path $subnetFile } -TimeoutSec 30 -Because 'subnet.env' | Out-Null
        $first = (Get-FlannelSubnetLease -EtcdEndpoint $etcd -EtcdPrefix $prefix).Subnet
        & kill -KILL $run.Pid
        $run.Process.WaitForExit(10000) | Should -BeTrue
        $stamp = (Get-Item $subnetFile).LastWriteTimeUtc
        $again = Start-Flanneld (@("--etcd-endpoints=$etcd") + $node)
        Wait-Until { (Get-Item $subnetFile).LastWriteTimeUtc -gt $stamp } -TimeoutSec 30 -Because 'subnet.env rewritten' | Out-Null
        @(Get-FlannelSubnetLease -EtcdEndpoint $etcd -EtcdPrefix $prefix).Subnet | Should -Be @($first)
        Stop-Flanneld $again | Should -Be 0
    }

    It 'keeps retrying an unreachable etcd with a warning, writes no subnet.env, and SIGTERM still exits 0' {
        # Nothing listens on this port inside the test namespace.
        $run = Start-Flanneld (@("--etcd-endpoints=http://127.0.0.1:$(Get-FreePort)") + $node)
        Wait-Until { (Get-Content $run.Log -ErrorAction SilentlyContinue) -match "^W\d{4} .* flanneld\] Couldn't fetch network config" } -TimeoutSec 30 -Because 'a warning about etcd' | Out-Null
        $run.Process.HasExited | Should -BeFalse
        Test-Path $subnetFile | Should -BeFalse
        Stop-Flanneld $run | Should -Be 0
        (Get-Content $run.Log)[-1] | Should -Match 'Exiting cleanly\.\.\.$'
    }

    It 'takes FLANNELD_* variables for flags not given, and the command line wins' {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        $envFile = Join-Path $dir "$([guid]::NewGuid().ToString('n')).env"
        $run = Start-Flanneld -Arguments @("--iface=$ul", "--subnet-file=$subnetFile") -Environment @{
            FLANNELD_SUBNET_FILE    = $envFile          # loses to --subnet-file
            FLANNELD_ETCD_ENDPOINTS = $etcd             # used
            FLANNELD_ETCD_PREFIX    = $prefix           # used
            FLANNELD_PUBLIC_IP      = '192.0.2.121'     # used
            FLANNELD_IP_MASQ        = 'true'            # used
        }
        Wait-Until { Test-Path $subnetFile } -TimeoutSec 30 -Because 'subnet.env from --subnet-file' | Out-Null
        Get-Content $subnetFile | Should -Contain 'FLANNEL_IPMASQ=true'
        Test-Path $envFile | Should -BeFalse
        (Get-FlannelSubnetLease -EtcdEndpoint $etcd -EtcdPrefix $prefix).PublicIP | Should -Be '192.0.2.121'
        Stop-Flanneld $run | Should -Be 0
    }

    It 'serves /healthz (liveness: 200 from the start) and /readyz (503 while waiting for the config, 200 once running)' {
        $port = Get-FreePort
        $run = Start-Flanneld (@("--etcd-endpoints=$etcd", "--healthz-port=$port") + $node)
        $h = Wait-Until { Get-Http "http://127.0.0.1:$port/healthz" } -TimeoutSec 30 -Because 'healthz listening'
        $h.Status | Should -Be 200 -Because 'flanneld answers /healthz as soon as it listens, config or not'
        $h.Body | Should -BeExactly 'flanneld is running'
        Start-Sleep -Seconds 2  # the node keeps retrying the missing config (1 s) and stays unready
        (Get-Http "http://127.0.0.1:$port/healthz").Status | Should -Be 200
        $ready = Get-Http "http://127.0.0.1:$port/readyz"
        $ready.Status | Should -Be 503
        $ready.Body | Should -BeExactly 'flanneld is not ready yet'
        Test-Path $subnetFile | Should -BeFalse -Because 'subnet.env is written only when the node is ready'

        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        Wait-Until { Test-Path $subnetFile } -TimeoutSec 30 -Because 'subnet.env after the config appears' | Out-Null
        $ok = Wait-Until { $r = Get-Http "http://127.0.0.1:$port/readyz"; if ($r.Status -eq 200) { $r } } -Because 'readyz 200'
        $ok.Body | Should -BeExactly 'flanneld is ready'
        $live = Get-Http "http://127.0.0.1:$port/healthz"
        $live.Status | Should -Be 200
        $live.Body | Should -BeExactly 'flanneld is running'
        $nope = Get-Http "http://127.0.0.1:$port/nope"
        $nope.Status | Should -Be 404
        $nope.Body | Should -BeExactly "404 page not found`n"
        ((Get-Content $run.Log) -match "flanneld\] Serving /healthz on 0\.0\.0\.0:$port$") | Should -HaveCount 1 -Because 'flanneld listens on every address by default'
        Stop-Flanneld $run | Should -Be 0
        Get-Http "http://127.0.0.1:$port/healthz" | Should -BeNullOrEmpty -Because 'the server stops with the node'
    }

    It 'uses the keys real flanneld uses for an etcd prefix without a leading slash (PREFIX/config, PREFIX/subnets/...)' -Skip:$noRealFlanneld {
        # etcd v3 keys are plain strings: "test/x/network/config" and "/test/x/network/config" are two keys.
        $relative = (New-TestPrefix 'relative').TrimStart('/')
        Set-FlannelNetworkConfig -EtcdEndpoint $etcd -EtcdPrefix $relative -Json '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' -Force
        Invoke-Etcdctl get --print-value-only "$relative/config" | Should -BeExactly '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}'

        $realFile = Join-Path $dir "real-$([guid]::NewGuid().ToString('n')).env"
        $real = Start-Flanneld -Binary $realFlanneld -Arguments @("--etcd-endpoints=$etcd", "--etcd-prefix=$relative", "--iface=$ul",
            '--public-ip=192.0.2.131', "--subnet-file=$realFile", '--ip-masq=false', '--iptables-forward-rules=false')
        Wait-Until { Test-Path $realFile } -TimeoutSec 30 -Because "real flanneld finds the config FlannelPS wrote ($(Get-Content -Raw $real.Log))" | Out-Null
        $theirs = Get-FlannelSubnetLease -EtcdEndpoint $etcd -EtcdPrefix $relative
        $theirs.PublicIP | Should -Be '192.0.2.131' -Because 'FlannelPS lists the lease real flanneld wrote'
        $theirs.Key | Should -BeLike "$relative/subnets/10.0.*.0-24"
        $theirs.EtcdPrefix | Should -BeExactly $relative

        $run = Start-Flanneld (@("--etcd-endpoints=$etcd", "--etcd-prefix=$relative") + $node[0, 1, 2])
        Wait-Until { Test-Path $subnetFile } -TimeoutSec 30 -Because 'FlannelPS flanneld finds the same config' | Out-Null
        $leases = Get-FlannelSubnetLease -EtcdEndpoint $etcd -EtcdPrefix $relative
        @($leases).Count | Should -Be 2
        ($leases.PublicIP | Sort-Object) | Should -Be @('192.0.2.121', '192.0.2.131')
        Invoke-Etcdctl get --prefix --keys-only "/$relative" | Should -BeNullOrEmpty -Because 'neither wrote a key with a leading slash'
        Stop-Flanneld $run | Should -Be 0
        Stop-Flanneld $real | Out-Null
    }

    It 'sends systemd exactly READY=1 over NOTIFY_SOCKET, and only after subnet.env exists' {
        $sockPath = Join-Path $dir "notify-$([guid]::NewGuid().ToString('n').Substring(0, 8)).sock"
        $sock = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::Unix, [Net.Sockets.SocketType]::Dgram, [Net.Sockets.ProtocolType]::Unspecified)
        try {
            $sock.Bind([Net.Sockets.UnixDomainSocketEndPoint]::new($sockPath))
            $run = Start-Flanneld -Arguments (@("--etcd-endpoints=$etcd") + $node) -Environment @{ NOTIFY_SOCKET = $sockPath }
            $buffer = [byte[]]::new(256)
            # No config yet: nothing may arrive, and there is no subnet.env.
            $sock.Poll(3000000, [Net.Sockets.SelectMode]::SelectRead) | Should -BeFalse
            Test-Path $subnetFile | Should -BeFalse

            Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
            $sock.Poll(30000000, [Net.Sockets.SelectMode]::SelectRead) | Should -BeTrue -Because 'READY=1 within 30 s of the config'
            $existedAtReady = Test-Path $subnetFile
            $n = $sock.Receive($buffer)
            [Text.Encoding]::UTF8.GetString($buffer, 0, $n) | Should -BeExactly 'READY=1'
            $existedAtReady | Should -BeTrue -Because 'READY=1 follows the subnet.env write'
            $sock.Poll(1000000, [Net.Sockets.SelectMode]::SelectRead) | Should -BeFalse -Because 'one notification only'
            Stop-Flanneld $run | Should -Be 0
            ((Get-Content $run.Log) -match 'flanneld\] Notified systemd: READY=1$') | Should -HaveCount 1
        }
        finally {
            $sock.Dispose()
            Remove-Item $sockPath -ErrorAction SilentlyContinue
        }
    }
}
