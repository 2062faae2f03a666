# Install-/Uninstall-FlannelDockerDropIn against files in a temp directory (never /etc).
BeforeAll {
    $modulePath = if ($env:FLANNELPS_MODULE) { $env:FLANNELPS_MODULE } else { Join-Path $PSScriptRoot '../../out/FlannelPS/FlannelPS.psd1' }
    $script:modulePath = (Resolve-Path $modulePath).Path
    Import-Module $modulePath -Force
}

Describe 'Install-FlannelDockerDropIn' {
    BeforeEach {
        $dir = Join-Path ([IO.Path]::GetTempPath()) "fpdk-dropin-$PID-$([guid]::NewGuid().ToString('N').Substring(0,6))"
        New-Item -ItemType Directory $dir | Out-Null
        $unit = "$dir/docker.service"
        [IO.File]::WriteAllText($unit, "[Service]`nType=notify`nEnvironmentFile=-/etc/default/docker`nExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock `$DOCKER_OPTS`n")
        $dropIn = "$dir/docker.service.d/flannel.conf"
        $expected = "# Written by FlannelPS (Install-FlannelDockerDropIn); Uninstall-FlannelDockerDropIn removes it.`n" +
            "[Service]`nEnvironmentFile=/run/docker_opts.env`nExecStart=`nExecStart=/usr/sbin/dockerd `$DOCKER_OPTS -H fd:// --containerd=/run/containerd/containerd.sock`n"
    }
    AfterEach { Remove-Item -Recurse -Force $dir }

    It 'writes the drop-in with the unit''s other dockerd flags, idempotently, and removes it again' {
        $r = Install-FlannelDockerDropIn -Path $dropIn -DockerUnitPath $unit
        $r.Changed | Should -BeTrue
        [IO.File]::ReadAllText($dropIn) | Should -BeExactly $expected
        (Install-FlannelDockerDropIn -Path $dropIn -DockerUnitPath $unit).Changed | Should -BeFalse
        Uninstall-FlannelDockerDropIn -Path $dropIn -Confirm:$false
        Test-Path $dropIn | Should -BeFalse
        Test-Path (Split-Path $dropIn) | Should -BeFalse
        { Uninstall-FlannelDockerDropIn -Path $dropIn -Confirm:$false } | Should -Not -Throw
    }

    It 'honours -EnvironmentFile and -DockerdPath' {
        Install-FlannelDockerDropIn -Path $dropIn -DockerUnitPath $unit -EnvironmentFile /run/x/opts.env -DockerdPath /opt/bin/dockerd | Out-Null
        $text = [IO.File]::ReadAllText($dropIn)
        $text | Should -Match '(?m)^EnvironmentFile=/run/x/opts\.env$'
        $text | Should -Match '(?m)^ExecStart=/opt/bin/dockerd \$DOCKER_OPTS -H fd://'
    }

    It 'writes a relative -EnvironmentFile as an absolute path from the current location (systemd ignores a relative one)' {
        Push-Location $dir   # the PowerShell location only: the process's working directory stays where it was
        try { Install-FlannelDockerDropIn -Path ./docker.service.d/flannel.conf -DockerUnitPath ./docker.service -EnvironmentFile ./opts.env | Out-Null }
        finally { Pop-Location }
        [IO.File]::ReadAllText($dropIn) | Should -Match "(?m)^EnvironmentFile=$([regex]::Escape("$dir/opts.env"))`$"
    }

    It 'keeps systemd''s leading - (a missing file is no error) on a relative -EnvironmentFile' {
        Push-Location $dir
        try { Install-FlannelDockerDropIn -Path $dropIn -DockerUnitPath $unit -EnvironmentFile '-opts.env' | Out-Null }
        finally { Pop-Location }
        [IO.File]::ReadAllText($dropIn) | Should -Match "(?m)^EnvironmentFile=-$([regex]::Escape("$dir/opts.env"))`$"
    }

    It 'refuses -<Parameter> with -Method <Method>, naming both, and writes nothing' -TestCases @(
        @{ Method = 'DropIn'; Parameter = 'SubnetFile'; Value = '<dir>/subnet.env' }
        @{ Method = 'DropIn'; Parameter = 'NoIpMasq'; Value = $true }
        @{ Method = 'DaemonJson'; Parameter = 'EnvironmentFile'; Value = '/run/x/opts.env' }
        @{ Method = 'DaemonJson'; Parameter = 'DockerdPath'; Value = '/opt/bin/dockerd' }
        @{ Method = 'DaemonJson'; Parameter = 'DockerUnitPath'; Value = '<dir>/docker.service' }
        @{ Method = 'DaemonJson'; Parameter = 'Key'; Value = 'FOO' }
    ) {
        [IO.File]::WriteAllText("$dir/subnet.env", "FLANNEL_NETWORK=10.0.0.0/16`nFLANNEL_SUBNET=10.0.5.1/24`nFLANNEL_MTU=1472`nFLANNEL_IPMASQ=true`n")
        $target = if ($Method -eq 'DaemonJson') { "$dir/daemon.json" } else { $dropIn }
        $extra = @{ $Parameter = if ($Value -is [string]) { $Value.Replace('<dir>', $dir) } else { $Value } }
        $e = $null
        try { Install-FlannelDockerDropIn -Method $Method -Path $target @extra -ErrorAction Stop | Out-Null }
        catch { $e = $_ }
        $e | Should -Not -BeNullOrEmpty -Because "-$Parameter does nothing with -Method $Method"
        $e.FullyQualifiedErrorId | Should -Be 'FlannelDockerMethodMismatch,FlannelPS.Commands.InstallFlannelDockerDropInCommand'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.Exception.Message | Should -Match "-$Parameter\b"
        $e.Exception.Message | Should -Match "-Method $Method\b"
        Test-Path $target | Should -BeFalse
        Test-Path "$dir/daemon.json.flannelps" | Should -BeFalse
    }

    It 'shows the exact content with -WhatIf and writes nothing' {
        # What if: goes to the host, so run it in a child pwsh and read its stdout.
        $env:_FPDK_MODULE = $modulePath
        $out = dotnet pwsh -NoProfile -NonInteractive -Command "Import-Module `$env:_FPDK_MODULE; Install-FlannelDockerDropIn -Path '$dropIn' -DockerUnitPath '$unit' -WhatIf"
        Test-Path $dropIn | Should -BeFalse
        ($out -join "`n") | Should -Match ([regex]::Escape("What if: Write '$dropIn' with:"))
        ($out -join "`n") | Should -Match ([regex]::Escape('ExecStart=/usr/sbin/dockerd $DOCKER_OPTS -H fd:// --containerd=/run/containerd/containerd.sock'))
    }

    It 'reports that systemd is not running on -Restart, after writing the file' -Skip:(Test-Path /run/systemd/system) {
        $r = Install-FlannelDockerDropIn -Path $dropIn -DockerUnitPath $unit -Restart -ErrorVariable e -ErrorAction SilentlyContinue
        Test-Path $dropIn | Should -BeTrue
        $r.Restarted | Should -BeFalse
        $e[0].FullyQualifiedErrorId | Should -BeLike 'FlannelSystemdNotRunning,*'
        $e[0].Exception.Message | Should -Match 'systemd is not running'
    }

    It 'refuses to remove a drop-in it did not write unless -Force' {
        New-Item -ItemType Directory (Split-Path $dropIn) | Out-Null
        [IO.File]::WriteAllText($dropIn, "[Service]`nEnvironment=A=1`n")
        { Uninstall-FlannelDockerDropIn -Path $dropIn -Confirm:$false } | Should -Throw -ErrorId 'FlannelDropInNotOwned*'
        Test-Path $dropIn | Should -BeTrue
        Uninstall-FlannelDockerDropIn -Path $dropIn -Force -Confirm:$false
        Test-Path $dropIn | Should -BeFalse
    }

    It '-Method DaemonJson merges bip and mtu keeping other keys, and Uninstall removes only those' {
        $json = "$dir/daemon.json"
        [IO.File]::WriteAllText("$dir/subnet.env", "FLANNEL_NETWORK=10.0.0.0/16`nFLANNEL_SUBNET=10.0.5.1/24`nFLANNEL_MTU=1472`nFLANNEL_IPMASQ=true`n")
        [IO.File]::WriteAllText($json, '{"log-driver":"journald","storage-driver":"overlay2","debug":true}')
        $r = Install-FlannelDockerDropIn -Method DaemonJson -Path $json -SubnetFile "$dir/subnet.env"
        $r.Keys | Should -Be @('bip', 'mtu', 'ip-masq')
        $doc = Get-Content -Raw $json | ConvertFrom-Json -AsHashtable
        $doc['bip'] | Should -Be '10.0.5.1/24'
        $doc['mtu'] | Should -Be 1472
        $doc.ContainsKey('ip-masq') | Should -BeTrue
        $doc['ip-masq'] | Should -BeExactly $false
        $doc['log-driver'] | Should -Be 'journald'
        $doc['storage-driver'] | Should -Be 'overlay2'
        $doc['debug'] | Should -BeTrue
        Test-Path "$json.flannelps" | Should -BeTrue
        (Install-FlannelDockerDropIn -Method DaemonJson -Path $json -SubnetFile "$dir/subnet.env").Changed | Should -BeFalse

        Uninstall-FlannelDockerDropIn -Method DaemonJson -Path $json -Confirm:$false
        $after = Get-Content -Raw $json | ConvertFrom-Json -AsHashtable
        @($after.Keys | Sort-Object) | Should -Be @('debug', 'log-driver', 'storage-driver')
        Test-Path "$json.flannelps" | Should -BeFalse
    }
}

Describe 'Install-FlannelDockerDropIn -Restart under a real systemd, with the real dockerd' -Tag 'Docker' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
        Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
        # A namespace of its own: dockerd makes docker0, sets FORWARD to DROP and adds its chains;
        # deleting the namespace takes all of that with it. dockerd turns IP forwarding on unless it
        # is on already, and the container's /proc/sys is read-only, so it is on already.
        $script:ns = "fpdk-sd-$PID"
        & ip netns add $ns
        & ip -n $ns link set lo up
        & ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1
        $script:sd = if (-not (Test-Path /usr/sbin/dockerd)) { 'dockerd is not installed (tests/run.sh installs docker.io)' }
            else { Start-TestSystemd -Name "fpdk$PID" -NetNs "/run/netns/$ns" }
        function Get-DockerdArgv {
            $main = Invoke-TestSystemd $sd systemctl show -p MainPID --value docker
            @((Invoke-TestSystemd $sd cat "/proc/$main/cmdline") -split "`0" | Where-Object { $_ })
        }
    }
    AfterAll {
        if ($sd -isnot [string]) { Stop-TestSystemd $sd }
        & ip netns del $ns 2>$null
    }

    It 'restarts dockerd with the flannel subnet as bip and the flannel MTU, and dockerd puts docker0 on the subnet' {
        if ($sd -is [string]) { Set-ItResult -Skipped -Because $sd; return }
        $r = Invoke-TestSystemdPwsh $sd ("New-Item -ItemType Directory /run/flannel -Force | Out-Null; " +
            "Set-Content /run/flannel/subnet.env 'FLANNEL_NETWORK=10.0.0.0/16', 'FLANNEL_SUBNET=10.0.5.1/24', 'FLANNEL_MTU=1472', 'FLANNEL_IPMASQ=true'; " +
            "Export-FlannelDockerOptions -Combined | Out-Null; Install-FlannelDockerDropIn -Restart | ConvertTo-Json -Compress") | ConvertFrom-Json
        $r.Changed | Should -BeTrue
        $r.Restarted | Should -BeTrue
        Invoke-TestSystemd $sd systemctl is-active docker | Should -Be 'active'
        $argv = Get-DockerdArgv
        $argv | Should -Contain '--bip=10.0.5.1/24'
        $argv | Should -Contain '--mtu=1472'
        $argv | Should -Contain '--ip-masq=false'
        $argv | Should -Contain '--containerd=/run/containerd/containerd.sock' -Because 'the unit''s own flags stay'
        (& ip -n $ns -4 -o addr show dev docker0) -join ' ' | Should -Match 'inet 10\.0\.5\.1/24 '
    }

    It 'Uninstall-FlannelDockerDropIn -Restart puts dockerd back on its unit''s own flags' {
        if ($sd -is [string]) { Set-ItResult -Skipped -Because $sd; return }
        (Invoke-TestSystemdPwsh $sd "Uninstall-FlannelDockerDropIn -Restart -PassThru -Confirm:`$false | ConvertTo-Json -Compress" | ConvertFrom-Json).Restarted | Should -BeTrue
        Invoke-TestSystemd $sd systemctl is-active docker | Should -Be 'active'
        $argv = Get-DockerdArgv
        $argv | Should -Not -Contain '--bip=10.0.5.1/24'
        $argv | Should -Contain '--containerd=/run/containerd/containerd.sock'
    }
}
