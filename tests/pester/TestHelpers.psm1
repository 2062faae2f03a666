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

function Start-TestSystemd {
    # Boots systemd as PID 1 of a container that shares a test network namespace (tests/testbed/boot-systemd.sh:
    # systemd-nspawn on a tmpfs root with this host's /usr), for tests of what systemd itself does.
    # -NetNs: that namespace (default this one's). The container also gets, read-only, the module
    # under test and this pwsh (for Invoke-TestSystemdPwsh), and the host's users, groups and
    # alternatives (iptables); the rest of its /etc starts empty.
    # Returns @{ Pid (systemd-nspawn, ours); Leader (the container's systemd); Dir }, or a string saying
    # why it cannot run here (for Set-ItResult -Skipped). Stop it with Stop-TestSystemd.
    param([string] $Name, [string] $NetNs = "/proc/$PID/ns/net", [double] $TimeoutSec = 60)
    Assert-TestNamespace
    if (-not (Get-Command systemd-nspawn -ErrorAction SilentlyContinue)) { return 'systemd-nspawn is not installed (Debian package systemd-container; tools/install-deps.sh installs it)' }
    if (-not $env:FLANNELPS_TEST_HOST_MOUNT_NS) { return 'FLANNELPS_TEST_HOST_MOUNT_NS is not set: run the suite with tests/run.sh (systemd-nspawn needs a mount namespace with /sys/fs/cgroup, which ip netns exec hides)' }
    $dir = Join-Path ([IO.Path]::GetTempPath()) "fpsd-$Name"
    New-Item -ItemType Directory $dir -Force | Out-Null
    $script = Join-Path $PSScriptRoot '../testbed/boot-systemd.sh' | Resolve-Path
    $readOnly = @((Split-Path $env:FLANNELPS_MODULE), $PSHOME) + @('/etc/passwd', '/etc/group', '/etc/alternatives' | Where-Object { Test-Path $_ })
    # nsenter opens both namespaces before it enters either, so -NetNs may be a path (/run/netns/X)
    # that only this mount namespace resolves.
    $nsenterArgs = @("--net=$NetNs", "--mount=$env:FLANNELPS_TEST_HOST_MOUNT_NS", '--', '/bin/sh', $script, $dir, $Name) + @($readOnly | ForEach-Object { "--bind-ro=$_" })
    # nsenter, sh, unshare and sh exec one another: the PID started is systemd-nspawn's.
    $p = Start-Process nsenter -ArgumentList $nsenterArgs -RedirectStandardOutput (Join-Path $dir 'console.log') -RedirectStandardError (Join-Path $dir 'stderr.log') -PassThru
    $sd = @{ Pid = $p.Id; Leader = $null; Dir = $dir }
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ([DateTime]::UtcNow -lt $deadline -and -not $p.HasExited) {
        $sd.Leader = (Get-Content "/proc/$($p.Id)/task/$($p.Id)/children" -ErrorAction SilentlyContinue) -split ' ' | Where-Object { $_ } | Select-Object -First 1
        if ($sd.Leader) {
            $state = & nsenter -t $sd.Leader -a systemctl is-system-running 2>$null
            if ($state -in 'running', 'degraded') { return $sd }
        }
        Start-Sleep -Milliseconds 200
    }
    # A machine that cannot run containers is a limit of the machine, not a failure of FlannelPS: say why.
    $why = "systemd did not come up in a systemd-nspawn container within $TimeoutSec s: $((Get-Content (Join-Path $dir 'stderr.log') -ErrorAction SilentlyContinue) -join ' ')"
    Stop-TestSystemd $sd
    $why
}

function Invoke-TestSystemd {
    # Invoke-TestSystemd $systemd COMMAND [ARGS...]: runs it inside the container of Start-TestSystemd
    # (all its namespaces) and returns its output. A plain function, so arguments like -NoProfile pass as they are.
    $systemd, $command = $args
    & nsenter -t $systemd.Leader -a -- @command
}

function Invoke-TestSystemdPwsh([hashtable] $Systemd, [string] $Script) {
    # Runs $Script in a pwsh inside the container, with the module under test imported and errors
    # terminating; returns its output, and throws with that output when it fails. The pwsh command
    # comes from tests/testbed/FlannelTestbed.psm1, which the caller imports.
    $pwsh = Get-FlannelTestbedPwshCommand
    $out = Invoke-TestSystemd $Systemd env HOME=/root NO_COLOR=1 @pwsh -NoProfile -NonInteractive -Command "`$ErrorActionPreference = 'Stop'; Import-Module '$env:FLANNELPS_MODULE'; $Script"
    if ($LASTEXITCODE -ne 0) { throw "pwsh in the container exited with $LASTEXITCODE`: $($out -join "`n")" }
    $out
}

function Stop-TestSystemd([hashtable] $Systemd) {
    # SIGTERM makes systemd-nspawn shut the container down cleanly; after 20 s both are killed.
    if (-not $Systemd) { return }
    & kill -TERM $Systemd.Pid 2>$null
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    while ([DateTime]::UtcNow -lt $deadline -and (Test-Path "/proc/$($Systemd.Pid)")) { Start-Sleep -Milliseconds 200 }
    foreach ($p in @($Systemd.Leader, $Systemd.Pid) | Where-Object { $_ -and (Test-Path "/proc/$_") }) { & kill -KILL $p 2>$null }
    # The host's /usr is bound under DIR/root/usr only in the container's own mount namespace; should
    # it ever show in this one, deleting DIR would walk into /usr, so leave DIR alone then.
    $usr = Join-Path $Systemd.Dir 'root/usr'
    if ((Get-Content /proc/self/mountinfo) -match " $([regex]::Escape($usr)) ") { Write-Warning "$usr is mounted; left $($Systemd.Dir) in place"; return }
    Remove-Item $Systemd.Dir -Recurse -Force -ErrorAction SilentlyContinue
}

Export-ModuleMember -Function *
