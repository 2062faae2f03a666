# Export-FlannelDockerOptions and bin/mk-docker-opts against the exact bytes upstream's mk-docker-opts.sh writes.
BeforeAll {
    $modulePath = if ($env:FLANNELPS_MODULE) { $env:FLANNELPS_MODULE } else { Join-Path $PSScriptRoot '../../out/FlannelPS/FlannelPS.psd1' }
    Import-Module $modulePath -Force
    $script:mk = Join-Path (Split-Path $modulePath) 'bin/mk-docker-opts'
    $script:seed = "FLANNEL_NETWORK=10.0.0.0/16`nFLANNEL_SUBNET=10.0.72.1/24`nFLANNEL_MTU=1472`nFLANNEL_IPMASQ=true`n"
    $script:all = "DOCKER_OPT_BIP=`"--bip=10.0.72.1/24`"`nDOCKER_OPT_IPMASQ=`"--ip-masq=false`"`nDOCKER_OPT_MTU=`"--mtu=1472`"`nDOCKER_OPTS=`" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472`"`n"
    function script:Read-Exact([string] $Path) { [IO.File]::ReadAllText($Path) }
}

Describe 'Export-FlannelDockerOptions' {
    BeforeEach {
        $dir = Join-Path ([IO.Path]::GetTempPath()) "fpdk-pester-$PID-$([guid]::NewGuid().ToString('N').Substring(0,6))"
        New-Item -ItemType Directory $dir | Out-Null
        [IO.File]::WriteAllText("$dir/subnet.env", $seed)
        $saved = $env:DOCKER_OPTS; $env:DOCKER_OPTS = $null
    }
    AfterEach {
        $env:DOCKER_OPTS = $saved
        Remove-Item -Recurse -Force $dir
    }

    It 'writes <Name> byte for byte' -ForEach @(
        @{ Name = 'the seed command (-Combined)'; Params = @{ Combined = $true }; Expected = "DOCKER_OPTS=`" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472`"`n" }
        @{ Name = 'both forms by default'; Params = @{}; Expected = 'ALL' }
        @{ Name = 'individual only'; Params = @{ Individual = $true }; Expected = "DOCKER_OPT_BIP=`"--bip=10.0.72.1/24`"`nDOCKER_OPT_IPMASQ=`"--ip-masq=false`"`nDOCKER_OPT_MTU=`"--mtu=1472`"`n" }
        @{ Name = 'no ip-masq'; Params = @{ Combined = $true; NoIpMasq = $true }; Expected = "DOCKER_OPTS=`" --bip=10.0.72.1/24 --mtu=1472`"`n" }
        @{ Name = 'a custom key'; Params = @{ Combined = $true; Key = 'CUSTOM' }; Expected = "CUSTOM=`" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472`"`n" }
    ) {
        Push-Location $dir
        try { Export-FlannelDockerOptions -SubnetFile subnet.env -Path out/docker_opts.env @Params } finally { Pop-Location }
        $want = if ($Expected -eq 'ALL') { $all } else { $Expected }
        Read-Exact "$dir/out/docker_opts.env" | Should -BeExactly $want
        [int](Get-Item "$dir/out/docker_opts.env").UnixFileMode | Should -Be 420  # 0644
    }

    It 'prepends the current environment value with two spaces' {
        $env:DOCKER_OPTS = '--foo'
        Export-FlannelDockerOptions -SubnetFile "$dir/subnet.env" -Path "$dir/o.env" -Combined
        Read-Exact "$dir/o.env" | Should -BeExactly "DOCKER_OPTS=`"--foo  --bip=10.0.72.1/24 --ip-masq=false --mtu=1472`"`n"
    }

    It 'takes DOCKER_OPT_* variables from the environment into the options, in name order, as the script''s shell does' {
        $env:DOCKER_OPT_DNS = '--dns=1.1.1.1'
        try {
            Export-FlannelDockerOptions -SubnetFile "$dir/subnet.env" -Path "$dir/o.env" -Combined
            Read-Exact "$dir/o.env" | Should -BeExactly "DOCKER_OPTS=`" --bip=10.0.72.1/24 --dns=1.1.1.1 --ip-masq=false --mtu=1472`"`n"
            (Export-FlannelDockerOptions -SubnetFile "$dir/subnet.env" -Path "$dir/o.env" -Individual -PassThru).Individual.Keys |
                Should -Be @('DOCKER_OPT_BIP', 'DOCKER_OPT_DNS', 'DOCKER_OPT_IPMASQ', 'DOCKER_OPT_MTU')
        }
        finally { $env:DOCKER_OPT_DNS = $null }
    }

    It 'writes empty options and warns when subnet.env is missing' {
        Export-FlannelDockerOptions -SubnetFile "$dir/nonexistent" -Path "$dir/o.env" -WarningVariable w -WarningAction SilentlyContinue
        Read-Exact "$dir/o.env" | Should -BeExactly "DOCKER_OPTS=`"`"`n"
        $w | Should -Match 'nonexistent'
    }

    It 'fails with the upstream text and leaves the existing file untouched on a bad FLANNEL_IPMASQ' {
        [IO.File]::WriteAllText("$dir/bad.env", "FLANNEL_SUBNET=10.0.72.1/24`nFLANNEL_IPMASQ=yes`n")
        [IO.File]::WriteAllText("$dir/o.env", "KEEP=1`n")
        $err = { Export-FlannelDockerOptions -SubnetFile "$dir/bad.env" -Path "$dir/o.env" } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeExactly 'Invalid value of FLANNEL_IPMASQ: yes'
        $err.FullyQualifiedErrorId | Should -BeLike 'FlannelInvalidIpMasq,*'
        Read-Exact "$dir/o.env" | Should -BeExactly "KEEP=1`n"
        (Get-ChildItem -Force $dir).Name | Sort-Object | Should -Be @('bad.env', 'o.env', 'subnet.env')
    }

    It 'writes the file, then fails as current flannel does when a via-route already has the subnet (cmdlet and mk-docker-opts)' {
        Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
        Assert-TestNamespace  # the route goes into this test namespace only
        $ul = New-TestUnderlay -Name "fpg$PID" -Address 192.0.2.161/24
        try {
            & ip route add 10.0.72.0/24 via 192.0.2.162 dev $ul
            $e = $null
            try { Export-FlannelDockerOptions -Path "$dir/opts.env" -SubnetFile "$dir/subnet.env" -Combined -ErrorAction Stop } catch { $e = $_ }
            $e.Exception.Message | Should -BeExactly 'Your routing table already contains the subnet: 10.0.72.0/24'
            $e.FullyQualifiedErrorId | Should -BeLike 'FlannelSubnetRouteExists,*'
            Read-Exact "$dir/opts.env" | Should -BeExactly "DOCKER_OPTS=`" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472`"`n"
            $stderr = & $mk -f "$dir/subnet.env" -d "$dir/mk.env" -c 2>&1
            $LASTEXITCODE | Should -Be 1
            "$stderr" | Should -Match 'Your routing table already contains the subnet: 10\.0\.72\.0/24'
            Test-Path "$dir/mk.env" | Should -BeTrue
        }
        finally { Remove-TestUnderlay $ul }
        # Without the route it passes again.
        Export-FlannelDockerOptions -Path "$dir/opts.env" -SubnetFile "$dir/subnet.env" -Combined
    }

    It 'writes nothing with -WhatIf and returns the parts with -PassThru' {
        Export-FlannelDockerOptions -SubnetFile "$dir/subnet.env" -Path "$dir/o.env" -WhatIf
        Test-Path "$dir/o.env" | Should -BeFalse
        $r = Export-FlannelDockerOptions -SubnetFile "$dir/subnet.env" -Path "$dir/o.env" -PassThru
        $r.GetType().Name | Should -Be 'FlannelDockerOptions'
        $r.Bip | Should -Be '--bip=10.0.72.1/24'
        $r.IpMasq | Should -Be '--ip-masq=false'
        $r.Mtu | Should -Be '--mtu=1472'
        $r.Individual['DOCKER_OPT_MTU'] | Should -Be '--mtu=1472'
        $r.Combined | Should -BeExactly ' --bip=10.0.72.1/24 --ip-masq=false --mtu=1472'
        $r.Path | Should -Be "$dir/o.env"
        ($r | Format-Table | Out-String) | Should -Match '10\.0\.72\.1/24'
    }
}

Describe 'bin/mk-docker-opts' {
    BeforeAll {
        $dir = Join-Path ([IO.Path]::GetTempPath()) "fpdk-mk-$PID"
        New-Item -ItemType Directory $dir -Force | Out-Null
        [IO.File]::WriteAllText("$dir/subnet.env", $seed)
        [IO.File]::WriteAllText("$dir/sample_subnet.env", "FLANNEL_NETWORK=10.1.0.0/16`nFLANNEL_SUBNET=10.1.74.1/24`nFLANNEL_MTU=1472`nFLANNEL_IPMASQ=false`n")
        [IO.File]::WriteAllText("$dir/bad.env", "FLANNEL_IPMASQ=yes`n")
        # One sh run covers every row (a pwsh start costs over a second each): each row writes its
        # own file; exit codes and stderr are captured per row.
        $rows = @(
            ,@('seed', '-f ./subnet.env -d seed.env -c', '')
            ,@('default', '-f ./subnet.env -d default.env', '')
            ,@('indiv', '-f ./subnet.env -d indiv.env -i', '')
            ,@('m', '-f ./subnet.env -d m.env -m -c', '')
            ,@('k', '-f ./subnet.env -d k.env -k CUSTOM -c', '')
            ,@('env', '-f ./subnet.env -d env.env -c', 'DOCKER_OPTS=--foo')
            ,@('envopt', '-f ./subnet.env -d envopt.env -c', 'DOCKER_OPT_DNS=--dns=1.1.1.1')
            ,@('envopts', '-f ./subnet.env -d envopts.env', 'DOCKER_OPT_DNS=--dns=1.1.1.1 DOCKER_OPT_A=')
            ,@('missing', '-f /nonexistent -d missing.env', '')
            ,@('sample', '-f sample_subnet.env -d sample.env -c', '')
            ,@('bad', '-f bad.env -d bad.out', '')
            ,@('h', '-h', '')
            ,@('unknown', '-z', '')
        )
        $sh = ($rows | ForEach-Object { "$($_[2]) '$mk' $($_[1]) 2>$($_[0]).err; echo `$? > $($_[0]).rc" }) -join "`n"
        Push-Location $dir
        try { $env:DOCKER_OPTS = $null; sh -c $sh } finally { Pop-Location }
        function script:Row([string] $Name) { Read-Exact "$dir/$Name.env" }
        function script:Rc([string] $Name) { (Get-Content "$dir/$Name.rc").Trim() }
    }
    AfterAll { Remove-Item -Recurse -Force $dir }

    It 'mk-docker-opts -d FILE -c (the seed) writes upstream''s bytes' {
        Row seed | Should -BeExactly "DOCKER_OPTS=`" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472`"`n"
        Rc seed | Should -Be '0'
    }
    It 'no -i/-c writes all four lines' { Row default | Should -BeExactly $all }
    It '-i writes the three DOCKER_OPT lines' { Row indiv | Should -BeExactly "DOCKER_OPT_BIP=`"--bip=10.0.72.1/24`"`nDOCKER_OPT_IPMASQ=`"--ip-masq=false`"`nDOCKER_OPT_MTU=`"--mtu=1472`"`n" }
    It '-m -c leaves out ip-masq' { Row m | Should -BeExactly "DOCKER_OPTS=`" --bip=10.0.72.1/24 --mtu=1472`"`n" }
    It '-k CUSTOM -c renames the variable' { Row k | Should -BeExactly "CUSTOM=`" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472`"`n" }
    It 'an existing DOCKER_OPTS gives two spaces' { Row env | Should -BeExactly "DOCKER_OPTS=`"--foo  --bip=10.0.72.1/24 --ip-masq=false --mtu=1472`"`n" }
    It 'a DOCKER_OPT_ variable in the environment joins the options in name order' {
        Row envopt | Should -BeExactly "DOCKER_OPTS=`" --bip=10.0.72.1/24 --dns=1.1.1.1 --ip-masq=false --mtu=1472`"`n"
        Row envopts | Should -BeExactly ("DOCKER_OPT_A=`"`"`nDOCKER_OPT_BIP=`"--bip=10.0.72.1/24`"`nDOCKER_OPT_DNS=`"--dns=1.1.1.1`"`n" +
            "DOCKER_OPT_IPMASQ=`"--ip-masq=false`"`nDOCKER_OPT_MTU=`"--mtu=1472`"`nDOCKER_OPTS=`"  --bip=10.0.72.1/24 --dns=1.1.1.1 --ip-masq=false --mtu=1472`"`n")
    }
    It 'a missing -f file gives DOCKER_OPTS=""' { Row missing | Should -BeExactly "DOCKER_OPTS=`"`"`n"; Rc missing | Should -Be '0' }
    It 'upstream sample_subnet.env (relative -f without a slash works)' { Row sample | Should -BeExactly "DOCKER_OPTS=`" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472`"`n" }
    It 'a bad FLANNEL_IPMASQ prints the upstream text, exits 1, writes nothing' {
        Rc bad | Should -Be '1'
        (Get-Content -Raw "$dir/bad.err") | Should -BeExactly "Invalid value of FLANNEL_IPMASQ: yes`n"
        Test-Path "$dir/bad.out" | Should -BeFalse
    }
    It '-h and unknown options print usage on stderr and exit 1' {
        Rc h | Should -Be '1'
        Rc unknown | Should -Be '1'
        Get-Content -Raw "$dir/h.err" | Should -Match 'usage: .*mk-docker-opts \[-f FLANNEL-ENV-FILE\]'
        Get-Content -Raw "$dir/unknown.err" | Should -Match 'usage:'
    }
}
