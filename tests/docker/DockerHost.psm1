<#
    A real Docker engine per network namespace, for tests: Start-TestDockerd runs dockerd inside a
    host namespace the test created, with its own data-root/exec-root/socket/containerd namespace,
    options loaded from a docker_opts.env exactly as systemd's EnvironmentFile would; Stop-TestDockerd
    removes containers, stops it by PID, kills leftovers, unmounts and deletes its directories.
    Everything a daemon owns lives under its WorkDir, so cleanup can find it even after a failure.
#>
Set-StrictMode -Version Latest

# Two clients are on PATH here (/usr/local/bin 28.x first); use the one matching the 20.10 daemon.
$script:DockerCli = if (Test-Path /usr/bin/docker) { '/usr/bin/docker' } else { 'docker' }

function Test-TestDockerAvailable {
    <# True when dockerd, nsenter and busybox-static are installed (tools/install-deps.sh --docker). #>
    [OutputType([bool])]
    param()
    [bool]((Get-Command dockerd -ErrorAction SilentlyContinue) -and (Get-Command nsenter -ErrorAction SilentlyContinue) -and (Test-Path /bin/busybox))
}

function Start-TestDockerd {
    <#
    .SYNOPSIS
        Starts dockerd in network namespace -Namespace with the options of -OptsFile and waits until it answers.
    .OUTPUTS
        An object with Namespace, Pid, Host (for docker -H), WorkDir, LogFile; pass it to the other functions.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Namespace,
        # A docker_opts.env (e.g. from Export-FlannelDockerOptions); sourced with `set -a`.
        [Parameter(Mandatory)] [string] $OptsFile,
        # The variable in OptsFile holding the options.
        [string] $Key = 'DOCKER_OPTS',
        # Extra dockerd arguments after the options.
        [string[]] $ExtraArgument = @(),
        [int] $TimeoutSec = 60
    )
    if (-not (Test-Path "/run/netns/$Namespace")) { throw "Network namespace '$Namespace' does not exist; create it first (ip netns add $Namespace)." }
    if (-not (Test-Path -LiteralPath $OptsFile)) { throw "Options file '$OptsFile' does not exist." }
    if ($Key -notmatch '^[A-Za-z_][A-Za-z0-9_]*$') { throw "Key '$Key' is not a variable name." }
    $work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "fpdk-dockerd-$Namespace-$([guid]::NewGuid().ToString('N').Substring(0, 6))")).FullName
    $daemon = [pscustomobject]@{
        PSTypeName = 'FlannelPS.TestDockerd'
        Namespace  = $Namespace
        Pid        = 0
        Host       = "unix://$work/docker.sock"
        WorkDir    = $work
        LogFile    = "$work/dockerd.log"
        OptsFile   = (Resolve-Path -LiteralPath $OptsFile).Path
    }
    # No stray /etc/docker/daemon.json: an empty config of its own.
    Set-Content -LiteralPath "$work/daemon.json" -Value '{}'
    $dockerdArgs = @(
        "--data-root=$work/data", "--exec-root=$work/exec", "--pidfile=$work/docker.pid",
        "-H", $daemon.Host, "--config-file=$work/daemon.json",
        "--containerd-namespace=fpdk-$Namespace", "--containerd-plugins-namespace=fpdk-$Namespace-p",
        # Its containers' cgroups carry the WorkDir's name, so cleanup can find stray processes.
        "--cgroup-parent=/$(Split-Path -Leaf $work)"
    ) + $ExtraArgument
    $quoted = ($dockerdArgs | ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" }) -join ' '
    # dockerd gets a private mount namespace (its mounts vanish with it) with the host namespace's
    # sysfs and the cgroup hierarchies mounted fresh: `ip netns exec` (which may run this very
    # process) hides /sys/fs/cgroup, and dockerd then fails with "Devices cgroup isn't mounted".
    # `$KEY` stays unquoted on purpose: word splitting is what systemd's ExecStart=dockerd $DOCKER_OPTS does.
    $shell = @"
mount -t sysfs sysfs /sys || exit 1
if grep -q '^0::' /proc/self/cgroup && ! grep -q '^[1-9]' /proc/self/cgroup; then
  mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 1
else
  mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup || exit 1
  for h in `$(sed -n 's/^[1-9][0-9]*:\([^:]*\):.*/\1/p' /proc/self/cgroup); do
    dir=`$(echo "`$h" | sed 's/^name=//')
    case `$h in name=*) opts="none,`$h" ;; *) opts="`$h" ;; esac
    mkdir -p "/sys/fs/cgroup/`$dir" && mount -t cgroup -o "`$opts" cgroup "/sys/fs/cgroup/`$dir" || exit 1
  done
fi
set -a; . "`$1"; set +a
exec dockerd `$$Key $quoted >"`$2" 2>&1
"@
    $psi = [Diagnostics.ProcessStartInfo]::new('nsenter')
    foreach ($a in @("--net=/run/netns/$Namespace", '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', $shell, 'sh', $daemon.OptsFile, $daemon.LogFile)) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardError = $true
    $proc = [Diagnostics.Process]::Start($psi)
    $daemon.Pid = $proc.Id    # nsenter and sh exec, so this is dockerd's PID
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    # Whatever ends the wait without a daemon (its exit, the deadline, an error here), the daemon
    # started above is stopped before the error leaves: the caller has no handle to clean it up.
    try {
        while ($true) {
            & $script:DockerCli -H $daemon.Host version --format '{{.Server.Version}}' *> $null
            if ($LASTEXITCODE -eq 0) { break }
            if ($proc.HasExited -or [DateTime]::UtcNow -gt $deadline) {
                throw "dockerd in '$Namespace' did not come up (exited: $($proc.HasExited)). Log tail:`n$(Get-TestDockerdLogTail $daemon $proc)"
            }
            Start-Sleep -Milliseconds 250
        }
    }
    catch {
        Stop-TestDockerd -Daemon $daemon
        throw
    }
    $daemon
}

function Get-TestDockerdLogTail($Daemon, [Diagnostics.Process] $Process) {
    # Read once, when it is needed, and without Get-Content -Tail: dockerd may be writing the file,
    # and -Tail on a growing file has thrown NullReferenceException here.
    try {
        if (Test-Path -LiteralPath $Daemon.LogFile) { return ([IO.File]::ReadAllLines($Daemon.LogFile) | Select-Object -Last 15) -join "`n" }
        if ($Process.HasExited) { return $Process.StandardError.ReadToEnd() }
    }
    catch { return "(log unreadable: $($_.Exception.Message))" }
    ''
}

function Invoke-TestDocker {
    <#
    .SYNOPSIS
        Runs the docker CLI against a daemon: Invoke-TestDocker $daemon [-AllowFailure] run -d ...
    .DESCRIPTION
        Deliberately has no param block, so docker's own flags (-d, -i, -H ...) pass through untouched
        instead of binding to PowerShell parameters by prefix. Throws with docker's output on a non-zero
        exit unless the first token after the daemon is -AllowFailure ($LASTEXITCODE then tells).
    #>
    if ($args.Count -lt 2 -or -not $args[0].Host) { throw 'usage: Invoke-TestDocker <daemon from Start-TestDockerd> [-AllowFailure] <docker arguments>' }
    $daemon = $args[0]
    $rest = @($args[1..($args.Count - 1)] | ForEach-Object { "$_" })
    $allow = $rest[0] -eq '-AllowFailure'
    if ($allow) { $rest = @($rest | Select-Object -Skip 1) }
    $out = & $script:DockerCli -H $daemon.Host @rest 2>&1 | ForEach-Object { "$_" }
    if ($LASTEXITCODE -ne 0 -and -not $allow) {
        throw "docker $($rest -join ' ') failed (exit $LASTEXITCODE) in $($daemon.Namespace): $($out -join "`n")"
    }
    $out
}

function New-TestBusyboxImage {
    <# Imports a tiny image (busybox-static, every applet linked) into -Daemon; no registry needed. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Daemon,
        [string] $Name = 'fpdk-busybox'
    )
    $rootfs = Join-Path $Daemon.WorkDir 'rootfs'
    New-Item -ItemType Directory -Force "$rootfs/bin", "$rootfs/tmp", "$rootfs/proc", "$rootfs/sys", "$rootfs/etc" | Out-Null
    Copy-Item /bin/busybox "$rootfs/bin/busybox"
    # Relative links: `busybox --install -s` would point them at this host path, broken inside.
    & sh -c 'cd "$1/bin" && for a in $(./busybox --list); do [ -e "$a" ] || ln -s busybox "$a"; done' sh $rootfs
    & sh -c 'tar -C "$1" -c . | "$2" -H "$3" import -c "CMD [\"sh\"]" - "$4" >/dev/null' sh $rootfs $script:DockerCli $Daemon.Host $Name
    if ($LASTEXITCODE -ne 0) { throw "docker import of $Name into $($Daemon.Namespace) failed" }
    $Name
}

function Stop-TestDockerd {
    <# Removes the daemon's containers, stops it by PID, kills leftovers under its WorkDir, unmounts and deletes the WorkDir. Never throws. #>
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline)] $Daemon)
    process {
        $work = $Daemon.WorkDir
        if (-not $work -or -not $work.StartsWith([IO.Path]::GetTempPath())) { Write-Warning "Refusing to clean '$work'"; return }
        try {
            if ($Daemon.Pid -and (Test-Path "/proc/$($Daemon.Pid)")) {
                $ids = & $script:DockerCli -H $Daemon.Host ps -aq 2>$null
                if ($ids) { & $script:DockerCli -H $Daemon.Host rm -f @ids *> $null }
                kill -TERM $Daemon.Pid 2>$null
                for ($i = 0; $i -lt 60 -and (Test-Path "/proc/$($Daemon.Pid)"); $i++) { Start-Sleep -Milliseconds 250 }
                if (Test-Path "/proc/$($Daemon.Pid)") { kill -KILL $Daemon.Pid 2>$null; Start-Sleep -Milliseconds 300 }
            }
        } catch { Write-Warning "Stopping dockerd $($Daemon.Pid): $_" }
        # containerd and shims carry the WorkDir in their command lines; container processes, its
        # name in their cgroup path (--cgroup-parent).
        $leaf = Split-Path -Leaf $work
        foreach ($p in Get-ChildItem /proc -Directory -ErrorAction SilentlyContinue | Where-Object Name -match '^\d+$') {
            try {
                if ([int]$p.Name -eq $PID) { continue }
                $cmd = [IO.File]::ReadAllText("/proc/$($p.Name)/cmdline")
                $cg = [IO.File]::ReadAllText("/proc/$($p.Name)/cgroup")
                if ($cmd.Contains($work) -or $cg.Contains(":/$leaf/")) { kill -KILL $p.Name 2>$null }
            } catch { }
        }
        Start-Sleep -Milliseconds 200
        # dockerd's mounts lived in its private mount namespace, gone with it; anything visible here
        # (a caller that bind-mounted into WorkDir) is unmounted deepest first.
        $mounts = @(Get-Content /proc/self/mountinfo | ForEach-Object { ($_ -split ' ')[4] } | Where-Object { $_ -like "$work*" } | Sort-Object Length -Descending)
        foreach ($m in $mounts) { umount -l $m 2>$null }
        $left = @(Get-Content /proc/self/mountinfo | Where-Object { $_ -like "* $work*" })
        if ($left.Count -eq 0) {
            rm -rf $work 2>$null
        } else {
            Write-Warning "Left $work in place: still mounted: $($left -join '; ')"
        }
    }
}

Export-ModuleMember -Function Test-TestDockerAvailable, Start-TestDockerd, Stop-TestDockerd, New-TestBusyboxImage, Invoke-TestDocker
