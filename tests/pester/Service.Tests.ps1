# Install-/Uninstall-FlannelService against temp paths: the rendered unit and environment file, the
# flag mapping, -WhatIf, idempotency, marked-file removal, systemd-analyze's check of the unit, the
# FLANNEL_ETCD/FLANNEL_ETCD_KEY fallback of bin/flanneld-start, and a real node started the way the
# unit starts it, and the whole install under a real systemd: this host's PID 1 is not systemd, so
# the last Describe boots one in a container (Start-TestSystemd) and installs, starts and removes there.
BeforeAll {
    Import-Module $env:FLANNELPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
    $script:bin = Join-Path (Split-Path $env:FLANNELPS_MODULE) 'bin'
    $script:root = Join-Path ([IO.Path]::GetTempPath()) "fpsv-service-$PID"
    $script:systemdRuns = Test-Path /run/systemd/system
}

AfterAll {
    Remove-Item $root -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Install-FlannelService / Uninstall-FlannelService' {
    BeforeEach {
        $script:dir = Join-Path $root ([guid]::NewGuid().ToString('n').Substring(0, 8))
        New-Item -ItemType Directory $dir -Force | Out-Null
        $script:paths = @{ UnitPath = (Join-Path $dir 'flanneld.service'); EnvironmentFilePath = (Join-Path $dir 'sysconfig/flanneld') }
    }

    It 'maps the parameters onto the sysconfig variables and FLANNEL_OPTIONS, and renders the unit' -Skip:$systemdRuns {
        # -Interface must exist here (a unit for a missing one would crash-loop): a veth in the test namespace.
        $eth = New-TestUnderlay -Name "fps$PID" -Address 192.0.2.150/24
        try {
        $svc = Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379, http://192.0.2.3:2379 -EtcdPrefix /atomic.io/network `
            -Interface $eth -PublicIP 198.51.100.7 -IpMasq -SubnetFile /run/flannel/x.env -SubnetLeaseRenewMargin 30 `
            -IptablesResyncSec 9 -NoIptablesForwardRules -HealthzPort 8471 -AdditionalOption '-v=2' `
            @paths -WarningVariable warn -WarningAction SilentlyContinue
        $svc.Changed | Should -BeTrue
        $svc.SystemdRunning | Should -BeExactly $false
        $svc.Enabled | Should -BeExactly $false
        $warn | Should -HaveCount 1
        "$warn" | Should -Match 'systemd is not running on this host'
        "$warn" | Should -Match ([regex]::Escape("set -a; . $($paths.EnvironmentFilePath); eval `"set -- `$FLANNEL_OPTIONS`"; sh $bin/flanneld-start `"`$@`""))

        $envText = Get-Content $paths.EnvironmentFilePath -Raw
        $vars = ($envText -split "`n") | Where-Object { $_ -and -not $_.StartsWith('#') }
        $vars | Should -Be @(
            'FLANNEL_ETCD_ENDPOINTS="http://192.0.2.2:2379,http://192.0.2.3:2379"'
            'FLANNEL_ETCD_PREFIX="/atomic.io/network"'
            "FLANNEL_OPTIONS=`"-iface=$eth -public-ip=198.51.100.7 -ip-masq=true -subnet-file=/run/flannel/x.env -subnet-lease-renew-margin=30 -iptables-resync=9 -iptables-forward-rules=false -healthz-port=8471 -v=2`""
        )
        $envText | Should -BeExactly $svc.EnvironmentContent
        $envText | Should -Match '^# Written by FlannelPS \(Install-FlannelService\)'

        $unit = Get-Content $paths.UnitPath -Raw
        $unit | Should -BeExactly $svc.UnitContent
        $lines = $unit -split "`n"
        foreach ($l in 'Type=notify', 'NotifyAccess=all', 'Restart=always', 'Before=docker.service', 'After=network-online.target etcd.service',
            "EnvironmentFile=-$($paths.EnvironmentFilePath)", "ExecStart=/bin/sh $bin/flanneld-start `$FLANNEL_OPTIONS", 'WantedBy=multi-user.target') {
            $lines | Should -Contain $l
        }
        Test-Path (Join-Path $bin 'flanneld-start') | Should -BeTrue
        (Get-Item $paths.UnitPath).UnixMode | Should -Be '-rw-r--r--'
        }
        finally { Remove-TestUnderlay $eth }
    }

    It 'records no pwsh (the service runs the compiled flanneld), and a second identical install changes nothing' -Skip:$systemdRuns {
        $first = Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 @paths -WarningAction SilentlyContinue
        (Get-Content $paths.EnvironmentFilePath) -match 'PWSH' | Should -BeNullOrEmpty
        $stamp = (Get-Item $paths.UnitPath).LastWriteTimeUtc
        Start-Sleep -Milliseconds 50
        $again = Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 @paths -WarningAction SilentlyContinue
        $again.Changed | Should -BeFalse
        $again.FilesWritten | Should -BeNullOrEmpty
        (Get-Item $paths.UnitPath).LastWriteTimeUtc | Should -Be $stamp
        $again.UnitContent | Should -BeExactly $first.UnitContent
    }

    It 'maps -InterfaceRegex and -InterfaceCanReach onto flanneld''s -iface-regex and -iface-can-reach' -Skip:$systemdRuns {
        $svc = Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 -InterfaceRegex '^en', '^eth[0-9]' -InterfaceCanReach 198.51.100.1 `
            @paths -NoStart -WarningAction SilentlyContinue
        $svc.Options | Should -BeExactly '-iface-regex=^en -iface-regex=^eth[0-9] -iface-can-reach=198.51.100.1'
    }

    It 'takes its etcd defaults from FLANNELD_* like every etcd cmdlet' -Skip:$systemdRuns {
        $saved = $env:FLANNELD_ETCD_ENDPOINTS, $env:FLANNELD_ETCD_PREFIX
        try {
            $env:FLANNELD_ETCD_ENDPOINTS = 'http://192.0.2.5:2379,http://192.0.2.6:2379'
            $env:FLANNELD_ETCD_PREFIX = '/from/env'
            Install-FlannelService @paths -NoStart -WarningAction SilentlyContinue | Out-Null
            $vars = Get-Content $paths.EnvironmentFilePath
            $vars | Should -Contain 'FLANNEL_ETCD_ENDPOINTS="http://192.0.2.5:2379,http://192.0.2.6:2379"'
            $vars | Should -Contain 'FLANNEL_ETCD_PREFIX="/from/env"'
        }
        finally { $env:FLANNELD_ETCD_ENDPOINTS, $env:FLANNELD_ETCD_PREFIX = $saved }
    }

    It 'refuses flanneld options flanneld would reject, before writing anything' {
        { Install-FlannelService -AdditionalOption '-kube-subnet-mgr' @paths -ErrorAction Stop } |
            Should -Throw -ErrorId 'FlannelServiceInvalidOption,FlannelPS.Commands.InstallFlannelServiceCommand'
        { Install-FlannelService -AdditionalOption "-v=1`n-v=2" @paths -ErrorAction Stop } |
            Should -Throw -ErrorId 'FlannelServiceInvalidValue,FlannelPS.Commands.InstallFlannelServiceCommand'
        # The same checks as Start-FlannelNode's, with flannel's own message for the margin.
        { Install-FlannelService -SubnetLeaseRenewMargin 0 @paths -ErrorAction Stop } |
            Should -Throw -ExpectedMessage 'Invalid subnet-lease-renew-margin option, out of acceptable range'
        { Install-FlannelService -HealthzPort 8471 -HealthzIP 'not-an-ip' @paths -ErrorAction Stop } |
            Should -Throw -ExpectedMessage "*-HealthzIP 'not-an-ip'*"
        Test-Path $paths.UnitPath | Should -BeFalse
        Test-Path $paths.EnvironmentFilePath | Should -BeFalse
    }

    It '-WhatIf prints both files and writes neither' {
        $pwsh = Get-FlannelTestbedPwshCommand
        $script = "Import-Module '$env:FLANNELPS_MODULE'; Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 -IpMasq -UnitPath '$($paths.UnitPath)' -EnvironmentFilePath '$($paths.EnvironmentFilePath)' -WhatIf"
        $out = (& $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $script 2>&1) -join "`n"
        $LASTEXITCODE | Should -Be 0
        $out | Should -Match ([regex]::Escape("What if: Write '$($paths.EnvironmentFilePath)' with:"))
        $out | Should -Match ([regex]::Escape("What if: Write '$($paths.UnitPath)' with:"))
        $out | Should -Match 'FLANNEL_OPTIONS="-ip-masq=true"'
        $out | Should -Match 'Type=notify'
        Test-Path $paths.UnitPath | Should -BeFalse
        Test-Path $paths.EnvironmentFilePath | Should -BeFalse
    }

    It '-WhatIf names only the file that would change' -Skip:$systemdRuns {
        Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 @paths -NoStart -WarningAction SilentlyContinue | Out-Null
        $before = @{ Unit = Get-Content -Raw $paths.UnitPath; Env = Get-Content -Raw $paths.EnvironmentFilePath }
        # -IpMasq changes FLANNEL_OPTIONS in the environment file; the unit stays as it is.
        $pwsh = Get-FlannelTestbedPwshCommand
        $script = "Import-Module '$env:FLANNELPS_MODULE'; Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 -IpMasq -UnitPath '$($paths.UnitPath)' -EnvironmentFilePath '$($paths.EnvironmentFilePath)' -NoStart -WhatIf -Verbose"
        $out = (& $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $script 2>&1) -join "`n"
        $LASTEXITCODE | Should -Be 0
        $out | Should -Match ([regex]::Escape("What if: Write '$($paths.EnvironmentFilePath)' with:"))
        $out | Should -Not -Match ([regex]::Escape("Write '$($paths.UnitPath)'"))
        $out | Should -Match ([regex]::Escape("'$($paths.UnitPath)' already has the wanted content"))
        Get-Content -Raw $paths.UnitPath | Should -BeExactly $before.Unit
        Get-Content -Raw $paths.EnvironmentFilePath | Should -BeExactly $before.Env
    }

    It '-Confirm asks only about the file that changes, so declining nothing else can cancel its write' -Skip:$systemdRuns {
        Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 @paths -NoStart -WarningAction SilentlyContinue | Out-Null
        # Answers come from stdin: yes to the first question, no to any second one. Only the
        # environment file changes, so there must be no second question to say no to.
        $pwsh = Get-FlannelTestbedPwshCommand
        $script = "Import-Module '$env:FLANNELPS_MODULE'; Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 -IpMasq -UnitPath '$($paths.UnitPath)' -EnvironmentFilePath '$($paths.EnvironmentFilePath)' -NoStart -Confirm -WarningAction SilentlyContinue | Out-Null"
        $out = ('y', 'n' | & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -Command $script 2>&1) -join "`n"
        $LASTEXITCODE | Should -Be 0 -Because $out
        $out | Should -Match ([regex]::Escape("Write '$($paths.EnvironmentFilePath)' with:"))
        $out | Should -Not -Match ([regex]::Escape("Write '$($paths.UnitPath)'"))
        Get-Content $paths.EnvironmentFilePath | Should -Contain 'FLANNEL_OPTIONS="-ip-masq=true"'
    }

    It 'passes systemd''s own unit check (systemd-analyze verify)' {
        if (-not (Get-Command systemd-analyze -ErrorAction SilentlyContinue)) { Set-ItResult -Skipped -Because 'systemd-analyze is not installed'; return }
        Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 -IpMasq @paths -NoStart -WarningAction SilentlyContinue | Out-Null
        $out = & systemd-analyze verify $paths.UnitPath 2>&1
        $LASTEXITCODE | Should -Be 0
        # verify exits 0 even for bad settings; it reports them on stderr.
        $out | Where-Object { "$_" -match [regex]::Escape($paths.UnitPath) } | Should -BeNullOrEmpty

        # The check is real: a unit with a broken type is reported.
        $bad = Join-Path $dir 'broken.service'
        (Get-Content $paths.UnitPath -Raw) -replace 'Type=notify', 'Type=notifyy' | Set-Content $bad -NoNewline
        "$(& systemd-analyze verify $bad 2>&1)" | Should -Match 'Failed to parse service type'
    }

    It 'removes exactly what it wrote, leaves other files, and a second uninstall does nothing' -Skip:$systemdRuns {
        Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 @paths -WarningAction SilentlyContinue | Out-Null
        $neighbour = Join-Path $dir 'docker.service'
        Set-Content $neighbour '[Unit]'
        $removed = Uninstall-FlannelService @paths -PassThru -Confirm:$false
        @($removed.FilesRemoved) | Should -Be @($paths.UnitPath, $paths.EnvironmentFilePath)
        Test-Path $paths.UnitPath | Should -BeFalse
        Test-Path $paths.EnvironmentFilePath | Should -BeFalse
        Test-Path $neighbour | Should -BeTrue
        Uninstall-FlannelService @paths -PassThru -Confirm:$false | Should -BeNullOrEmpty
    }

    It 'leaves a file it did not write unless -Force' {
        New-Item -ItemType Directory (Split-Path $paths.EnvironmentFilePath) -Force | Out-Null
        Set-Content $paths.EnvironmentFilePath 'FLANNEL_ETCD="http://127.0.0.1:2379"'
        { Install-FlannelService @paths -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'FlannelServiceFileNotOwned,FlannelPS.Commands.InstallFlannelServiceCommand'
        { Uninstall-FlannelService @paths -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'FlannelServiceFileNotOwned,FlannelPS.Commands.UninstallFlannelServiceCommand'
        Get-Content $paths.EnvironmentFilePath | Should -Be 'FLANNEL_ETCD="http://127.0.0.1:2379"'
        Uninstall-FlannelService @paths -Force -Confirm:$false
        Test-Path $paths.EnvironmentFilePath | Should -BeFalse
    }

    It 'has help: synopsis, examples and parameter descriptions' {
        foreach ($name in 'Install-FlannelService', 'Uninstall-FlannelService') {
            $help = Get-Help $name -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            $help.Synopsis | Should -Not -Match '^\s*Install-FlannelService \['
            @($help.Examples.Example).Count | Should -BeGreaterThan 0
        }
        (Get-Help Install-FlannelService -Parameter EnvironmentFilePath).Description.Text | Should -Match 'EnvironmentFile='
    }
}

Describe 'flanneld-start (the unit''s ExecStart)' {
    BeforeAll {
        # flanneld-start beside a stand-in flanneld that prints the arguments it is given, one a line.
        $script:stubBin = Join-Path $root 'stub-bin'
        New-Item -ItemType Directory $stubBin -Force | Out-Null
        Copy-Item (Join-Path $bin 'flanneld-start') $stubBin
        Set-Content (Join-Path $stubBin 'flanneld') -Value "#!/bin/sh`nfor a in `"`$@`"; do printf '%s\n' `"`$a`"; done"
        & chmod +x (Join-Path $stubBin 'flanneld')
        function Get-StartArgs([hashtable] $Environment, [string[]] $Options = @()) {
            $psi = [Diagnostics.ProcessStartInfo]::new('/bin/sh')
            $psi.ArgumentList.Add((Join-Path $stubBin 'flanneld-start'))
            foreach ($o in $Options) { $psi.ArgumentList.Add($o) }
            $psi.RedirectStandardOutput = $true
            $psi.UseShellExecute = $false
            foreach ($n in 'FLANNEL_ETCD_ENDPOINTS', 'FLANNEL_ETCD', 'FLANNEL_ETCD_PREFIX', 'FLANNEL_ETCD_KEY') { $psi.Environment.Remove($n) | Out-Null }
            foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
            $p = [Diagnostics.Process]::Start($psi)
            $out = $p.StandardOutput.ReadToEnd()
            $p.WaitForExit()
            @($out -split "`n" | Where-Object { $_ })
        }
    }

    It 'passes the newer sysconfig names first, then FLANNEL_OPTIONS' {
        Get-StartArgs @{ FLANNEL_ETCD_ENDPOINTS = 'http://192.0.2.2:2379'; FLANNEL_ETCD_PREFIX = '/coreos.com/network'; FLANNEL_ETCD = 'http://old:2379'; FLANNEL_ETCD_KEY = '/atomic.io/network' } -Options '-ip-masq=true', '-iface=eth1' |
            Should -Be @('-etcd-endpoints=http://192.0.2.2:2379', '-etcd-prefix=/coreos.com/network', '-ip-masq=true', '-iface=eth1')
    }

    It 'falls back to FLANNEL_ETCD and FLANNEL_ETCD_KEY when the newer names are empty (an rpm-era sysconfig)' {
        Get-StartArgs @{ FLANNEL_ETCD_ENDPOINTS = ''; FLANNEL_ETCD = 'http://192.0.2.9:2379'; FLANNEL_ETCD_KEY = '/atomic.io/network' } |
            Should -Be @('-etcd-endpoints=http://192.0.2.9:2379', '-etcd-prefix=/atomic.io/network')
    }

    It 'passes no etcd flag when neither name is set, so FLANNELD_* and the defaults apply' {
        Get-StartArgs @{} -Options '-ip-masq=true' | Should -Be @('-ip-masq=true')
    }
}

Describe 'The installed files run a real node the way systemd would' {
    BeforeAll {
        Assert-TestNamespace
        $script:etcd = Get-TestEtcdEndpoint
        $script:ul = New-TestUnderlay -Name "fpsw$PID" -Address 192.0.2.131/24
    }
    AfterAll {
        Remove-TestUnderlay $ul
    }

    It 'EnvironmentFile + ExecStart (rpm-era FLANNEL_ETCD_KEY): READY=1 after subnet.env, SIGTERM stops it with exit 0' {
        $dir = Join-Path $root "run-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        New-Item -ItemType Directory $dir -Force | Out-Null
        $prefix = New-TestPrefix 'service'
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        $subnetFile = Join-Path $dir 'subnet.env'
        $envFile = Join-Path $dir 'flanneld'
        $svc = Install-FlannelService -EtcdEndpoint $etcd -EtcdPrefix '/ignored' -Interface $ul -PublicIP 192.0.2.131 -IpMasq -SubnetFile $subnetFile `
            -UnitPath (Join-Path $dir 'flanneld.service') -EnvironmentFilePath $envFile -NoStart -WarningAction SilentlyContinue
        # An operator edits the file rpm-style: the newer name emptied, the older one set.
        (Get-Content $envFile -Raw) -replace 'FLANNEL_ETCD_PREFIX="/ignored"', "FLANNEL_ETCD_PREFIX=`"`"`nFLANNEL_ETCD_KEY=`"$prefix`"" | Set-Content $envFile -NoNewline

        $sockPath = Join-Path $dir 'notify.sock'
        $sock = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::Unix, [Net.Sockets.SocketType]::Dgram, [Net.Sockets.ProtocolType]::Unspecified)
        $sock.Bind([Net.Sockets.UnixDomainSocketEndPoint]::new($sockPath))
        # systemd: load EnvironmentFile=, then run ExecStart with $FLANNEL_OPTIONS split into words (eval splits them alike).
        $exec = $svc.ExecStart
        $psi = [Diagnostics.ProcessStartInfo]::new('/bin/sh')
        foreach ($a in '-c', "set -a; . '$envFile'; set +a; eval `"exec $exec`"") { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardError = $true
        $psi.Environment['NOTIFY_SOCKET'] = $sockPath
        $proc = [Diagnostics.Process]::Start($psi)
        $stderr = $proc.StandardError.ReadToEndAsync()
        try {
            $sock.Poll(40000000, [Net.Sockets.SelectMode]::SelectRead) | Should -BeTrue -Because 'READY=1 within 40 s'
            $ready = Test-Path $subnetFile
            $buffer = [byte[]]::new(64)
            [Text.Encoding]::UTF8.GetString($buffer, 0, $sock.Receive($buffer)) | Should -BeExactly 'READY=1'
            $ready | Should -BeTrue
            Get-Content $subnetFile | Should -Contain 'FLANNEL_IPMASQ=true'
            (Get-FlannelSubnetLease -EtcdEndpoint $etcd -EtcdPrefix $prefix).PublicIP | Should -Be '192.0.2.131'
            & kill -TERM $proc.Id
            $proc.WaitForExit(20000) | Should -BeTrue
            $proc.ExitCode | Should -Be 0
            $stderr.Result | Should -Match 'Exiting cleanly\.\.\.'
        }
        finally {
            if (-not $proc.HasExited) { $proc.Kill(); $proc.WaitForExit(5000) | Out-Null }
            $sock.Dispose()
        }
    }
}

Describe 'Under a real systemd: PID 1 of a container (systemd-nspawn) in the test namespace' {
    BeforeAll {
        Assert-TestNamespace
        $script:etcd = Get-TestEtcdEndpoint
        # The underlay "fpsr<PID>" and its address-less peer "fpsr<PID>-p" (created first, so listed
        # first): only a regex anchored with $ picks the one with the address.
        $script:ul = New-TestUnderlay -Name "fpsr$PID" -Address 192.0.2.151/24
        $script:regex = '^fpsr\d+$'
        $script:sd = Start-TestSystemd -Name "fpsd$PID"
    }
    AfterAll {
        if ($sd -isnot [string]) { Stop-TestSystemd $sd }
        Remove-TestUnderlay $ul
    }

    It 'Install-FlannelService enables and starts flanneld, READY=1 ends the start, and a regex with $ and \ and a path with a space reach flanneld intact' {
        if ($sd -is [string]) { Set-ItResult -Skipped -Because $sd; return }
        $prefix = New-TestPrefix 'systemd'
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        # A subnet file with a space in its path: the split of FLANNEL_OPTIONS keeps it one word.
        $svc = Invoke-TestSystemdPwsh $sd "Install-FlannelService -EtcdEndpoint $etcd -EtcdPrefix $prefix -InterfaceRegex '$regex' -SubnetFile '/run/flannel/my subnet.env' | ConvertTo-Json -Compress" | ConvertFrom-Json
        $svc.SystemdRunning | Should -BeTrue
        $svc.Enabled | Should -BeTrue
        $svc.Started | Should -BeTrue
        # Type=notify: systemctl returned only after READY=1, which flanneld sends once subnet.env is written.
        Invoke-TestSystemd $sd systemctl is-active flanneld | Should -Be 'active'
        Invoke-TestSystemd $sd systemctl is-enabled flanneld | Should -Be 'enabled'
        Invoke-TestSystemd $sd cat '/run/flannel/my subnet.env' | Should -Contain 'FLANNEL_NETWORK=10.0.0.0/16'
        $mainPid = Invoke-TestSystemd $sd systemctl show -p MainPID --value flanneld
        $argv = (Invoke-TestSystemd $sd cat "/proc/$mainPid/cmdline") -split "`0"
        $argv | Should -Contain "-iface-regex=$regex"
        $argv | Should -Contain '-subnet-file=/run/flannel/my subnet.env'
        $argv | Should -Contain "-etcd-prefix=$prefix"
        (Get-FlannelSubnetLease -EtcdEndpoint $etcd -EtcdPrefix $prefix).PublicIP | Should -Be '192.0.2.151' -Because "the regex picks $ul, not $ul-p"
    }

    It 'Uninstall-FlannelService stops and disables it and removes both files' {
        if ($sd -is [string]) { Set-ItResult -Skipped -Because $sd; return }
        $removed = Invoke-TestSystemdPwsh $sd "Uninstall-FlannelService -Confirm:`$false -PassThru | ConvertTo-Json -Compress" | ConvertFrom-Json
        @($removed.FilesRemoved) | Should -Be @('/etc/systemd/system/flanneld.service', '/etc/sysconfig/flanneld')
        Invoke-TestSystemd $sd systemctl is-active flanneld | Should -Not -Be 'active'
        Invoke-TestSystemd $sd sh -c '! test -e /etc/systemd/system/flanneld.service && ! test -e /etc/sysconfig/flanneld && echo gone' | Should -Be 'gone'
    }
}
