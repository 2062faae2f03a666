# Errors at the prompt, not later in a job: Start-FlannelNode and Install-FlannelService check what
# can be known before anything starts or is written, with one error id per mistake. Also the etcd
# endpoint and config-key errors every etcd cmdlet shares. Runs inside the suite's test namespace.
BeforeAll {
    Import-Module $env:FLANNELPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Assert-TestNamespace
    $script:etcd = Get-TestEtcdEndpoint
    $script:ul = New-TestUnderlay -Name "fpf$PID" -Address 192.0.2.141/24
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "fppre-$PID"
    New-Item -ItemType Directory $dir -Force | Out-Null

    function Get-ErrorOf([scriptblock] $Script) {
        try { & $Script; $null } catch { $_ }
    }
}

AfterAll {
    Get-Job -ErrorAction SilentlyContinue | Where-Object PSJobTypeName -eq FlannelNodeJob | Remove-Job -Force
    Remove-TestUnderlay $ul
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Start-FlannelNode checks before the job starts' {
    BeforeEach {
        $script:prefix = New-TestPrefix 'pre'
        $script:common = @{ EtcdEndpoint = $etcd; EtcdPrefix = $prefix; SubnetFile = (Join-Path $dir "$([guid]::NewGuid().ToString('n')).env") }
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        $script:jobsBefore = @(Get-Job | Where-Object PSJobTypeName -eq FlannelNodeJob).Count
    }

    It 'refuses a missing -Interface as a terminating error naming it, with or without -WhatIf, and leaves no job' {
        foreach ($whatIf in $false, $true) {
            $e = Get-ErrorOf { Start-FlannelNode -Interface nosuch0 @common -WhatIf:$whatIf -ErrorAction Stop }
            $e | Should -Not -BeNullOrEmpty -Because "-WhatIf:$whatIf must report it too"
            $e.FullyQualifiedErrorId | Should -BeLike 'FlannelInterfaceNotFound,*'
            $e.TargetObject | Should -Be 'nosuch0'
            $e.Exception.Message | Should -Match 'nosuch0'
        }
        @(Get-Job | Where-Object PSJobTypeName -eq FlannelNodeJob).Count | Should -Be $jobsBefore
    }

    It 'refuses a -PublicIP that is not an address with the one id every cmdlet uses' {
        $ids = @(
            Get-ErrorOf { Start-FlannelNode -Interface $ul -PublicIP banana @common -ErrorAction Stop }
            Get-ErrorOf { Start-FlannelNode -Interface $ul -PublicIP banana @common -WhatIf -ErrorAction Stop }
            Get-ErrorOf { New-FlannelSubnetLease -PublicIP banana -EtcdEndpoint $etcd -EtcdPrefix $prefix -ErrorAction Stop }
            Get-ErrorOf { Get-FlannelSubnetLease -PublicIP banana -EtcdEndpoint $etcd -EtcdPrefix $prefix -ErrorAction Stop }
            Get-ErrorOf { Test-FlannelNode -PublicIP banana -EtcdEndpoint $etcd -EtcdPrefix $prefix -ErrorAction Stop }
        )
        $ids.Count | Should -Be 5
        foreach ($e in $ids) {
            $e.FullyQualifiedErrorId | Should -BeLike 'FlannelInvalidPublicIP,*'
            $e.TargetObject | Should -Be 'banana'
        }
        @(Get-Job | Where-Object PSJobTypeName -eq FlannelNodeJob).Count | Should -Be $jobsBefore
    }

    It 'refuses a udp port that is already in use when the config is readable' {
        $holder = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([ipaddress]'192.0.2.141', 0))
        try {
            $port = $holder.Client.LocalEndPoint.Port
            Invoke-Etcdctl put "$prefix/config" ('{"Network":"10.0.0.0/16","Backend":{"Type":"udp","Port":' + $port + '}}') | Out-Null
            $e = Get-ErrorOf { Start-FlannelNode -Interface $ul @common -ErrorAction Stop }
            $e.FullyQualifiedErrorId | Should -BeLike 'FlannelPortInUse,*'
            $e.TargetObject | Should -Be $port
            $e.Exception.Message | Should -Match "UDP port $port on 192\.0\.2\.141"
        }
        finally { $holder.Dispose() }
        @(Get-Job | Where-Object PSJobTypeName -eq FlannelNodeJob).Count | Should -Be $jobsBefore
    }
}

Describe 'Install-FlannelService checks before it writes' {
    It 'writes nothing for -PublicIP banana or -Interface nosuch0' {
        $paths = @{ UnitPath = (Join-Path $dir 'bad.service'); EnvironmentFilePath = (Join-Path $dir 'bad.env') }
        (Get-ErrorOf { Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 -PublicIP banana @paths -NoStart -ErrorAction Stop }).FullyQualifiedErrorId |
            Should -BeLike 'FlannelInvalidPublicIP,*'
        (Get-ErrorOf { Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 -Interface nosuch0 @paths -NoStart -ErrorAction Stop }).FullyQualifiedErrorId |
            Should -BeLike 'FlannelInterfaceNotFound,*'
        Test-Path $paths.UnitPath | Should -BeFalse
        Test-Path $paths.EnvironmentFilePath | Should -BeFalse
    }
}

Describe 'etcd errors every etcd cmdlet shares' {
    It 'refuses a malformed endpoint with its own id and the endpoint as target' {
        foreach ($ep in 'banana', 'ftp://192.0.2.2:2379') {
            $e = Get-ErrorOf { Get-FlannelNetworkConfig -EtcdEndpoint $ep -EtcdTimeoutSec 1 -ErrorAction Stop }
            $e.FullyQualifiedErrorId | Should -BeLike 'FlannelEtcdEndpointInvalid,*' -Because $ep
            $e.TargetObject | Should -Be $ep
        }
    }

    It 'names the real config key when the config is missing' {
        $p = New-TestPrefix 'nocfg'
        $e = Get-ErrorOf { Get-FlannelNetworkConfig -EtcdEndpoint $etcd -EtcdPrefix $p -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'FlannelNetworkConfigNotFound,*'
        "$($e.TargetObject)" | Should -BeLike "$p/config*"
    }

    It 'lets -ErrorAction decide whether a pipeline goes on when etcd is unavailable' {
        $records = 1..2 | ForEach-Object { [pscustomobject]@{ Subnet = "10.0.$_.0/24" } }
        $e = $null
        $records | Get-FlannelSubnetLease -EtcdEndpoint http://127.0.0.1:9 -EtcdTimeoutSec 1 -ErrorVariable e -ErrorAction SilentlyContinue
        $e.Count | Should -Be 2
        $e[0].FullyQualifiedErrorId | Should -BeLike 'FlannelEtcdUnavailable,*'
        { $records | Get-FlannelSubnetLease -EtcdEndpoint http://127.0.0.1:9 -EtcdTimeoutSec 1 -ErrorAction Stop } | Should -Throw
    }
}
