# Set-/Get-FlannelNetworkConfig against the real test etcd.
BeforeAll {
    Import-Module $env:FLANNELPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    $script:etcd = Get-TestEtcdEndpoint
}

Describe 'Set-FlannelNetworkConfig' {
    BeforeEach { $script:prefix = New-TestPrefix 'cfg' }

    It 'writes the config from parameters in flannel field names' {
        Set-FlannelNetworkConfig -Network 10.5.0.0/16 -SubnetLen 24 -BackendType udp -BackendPort 8285 -EtcdEndpoint $etcd -EtcdPrefix $prefix
        Get-EtcdValue "$prefix/config" | Should -BeExactly '{"Network":"10.5.0.0/16","SubnetLen":24,"Backend":{"Type":"udp","Port":8285}}'
    }

    It 'writes -Json as given and -PassThru returns the effective config' {
        $c = Set-FlannelNetworkConfig -Json '{"NetWork":"10.0.0.0/16"}' -EtcdEndpoint $etcd -EtcdPrefix $prefix -PassThru
        Get-EtcdValue "$prefix/config" | Should -BeExactly '{"NetWork":"10.0.0.0/16"}'
        $c.GetType().Name | Should -Be 'FlannelNetworkConfig'
        $c.SubnetMin | Should -Be '10.0.1.0'
        $c.SubnetMax | Should -Be '10.0.255.0'
        $c.BackendType | Should -Be 'udp'
    }

    It 'round-trips a config from Get-FlannelNetworkConfig by property name, back to where it was read (issue 13 item 9)' {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.3.0.0/16","Backend":{"Type":"udp"}}' | Out-Null
        $saved = $env:FLANNELD_ETCD_PREFIX
        $env:FLANNELD_ETCD_PREFIX = "$prefix-default"
        try {
            $c = Get-FlannelNetworkConfig -EtcdEndpoint $etcd -EtcdPrefix $prefix | Set-FlannelNetworkConfig -EtcdEndpoint $etcd -PassThru -ErrorAction Stop
        }
        finally { $env:FLANNELD_ETCD_PREFIX = $saved }
        $c.Key | Should -Be "$prefix/config"
        Get-EtcdValue "$prefix/config" | Should -BeExactly '{"Network":"10.3.0.0/16","Backend":{"Type":"udp"}}'
        Get-EtcdValue "$prefix-default/config" | Should -BeNullOrEmpty
        # An object with a Json property binds by name too.
        [pscustomobject]@{ Json = '{"Network":"10.4.0.0/16"}' } | Set-FlannelNetworkConfig -EtcdEndpoint $etcd -EtcdPrefix $prefix
        Get-EtcdValue "$prefix/config" | Should -BeExactly '{"Network":"10.4.0.0/16"}'
    }

    It 'warns which leases a new Network or SubnetLen strands and writes only with confirmation or -Force' {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16"}' | Out-Null
        Invoke-Etcdctl put "$prefix/subnets/10.0.9.0-24" '{"PublicIP":"192.0.2.9"}' | Out-Null
        Invoke-Etcdctl put "$prefix/subnets/10.0.72.0-24" '{"PublicIP":"192.0.2.72"}' | Out-Null
        $e = $null
        try { Set-FlannelNetworkConfig -Network 10.0.0.0/16 -SubnetLen 26 -EtcdEndpoint $etcd -EtcdPrefix $prefix -WarningVariable w -WarningAction SilentlyContinue -ErrorAction Stop }
        catch { $e = $_ }
        $e.FullyQualifiedErrorId | Should -BeLike 'FlannelConfigStrandsLeases,*'
        "$w" | Should -BeLike '*10.0.9.0/24 (PublicIP 192.0.2.9), 10.0.72.0/24 (PublicIP 192.0.2.72)*'
        Get-EtcdValue "$prefix/config" | Should -BeExactly '{"Network":"10.0.0.0/16"}'
        Set-FlannelNetworkConfig -Network 10.0.0.0/16 -SubnetLen 26 -Force -EtcdEndpoint $etcd -EtcdPrefix $prefix -WarningAction SilentlyContinue
        Get-EtcdValue "$prefix/config" | Should -BeExactly '{"Network":"10.0.0.0/16","SubnetLen":26}'
        # A change that keeps every lease needs nothing more.
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16"}' | Out-Null
        Set-FlannelNetworkConfig -Network 10.0.0.0/16 -BackendType udp -EtcdEndpoint $etcd -EtcdPrefix $prefix -WarningVariable w2
        $w2 | Should -BeNullOrEmpty
    }

    It 'writes nothing with -WhatIf' {
        Set-FlannelNetworkConfig -Network 10.6.0.0/16 -EtcdEndpoint $etcd -EtcdPrefix $prefix -WhatIf
        Get-EtcdValue "$prefix/config" | Should -BeNullOrEmpty
    }

    It 'rejects <json> with "<message>" and leaves the stored config untouched' -TestCases @(
        @{ json = '{"Network":"10.0.0.0/16","SubnetLen":31}'; message = 'SubnetLen must be less than /31' }
        @{ json = '{"Network":"10.0.0.0/16","SubnetLen":17}'; message = 'network must be able to accommodate at least four subnets' }
        @{ json = '{"Network":"10.0.0.0/29"}'; message = 'network is too small. Minimum useful network prefix is /28' }
        @{ json = '{"SubnetLen":24}'; message = 'please define a correct Network parameter in the flannel config' }
        @{ json = '{"Network":"10.0.0.0/16","SubnetMin":"10.9.0.0"}'; message = 'SubnetMin is not in the range of the Network' }
        @{ json = '{"Network":"10.0.0.0/16","SubnetMax":"10.9.0.0"}'; message = 'SubnetMax is not in the range of the Network' }
        @{ json = '{"Network":"10.0.0.0/16","SubnetMin":"10.0.1.7"}'; message = 'SubnetMin is not on a SubnetLen boundary: 10.0.1.7' }
        @{ json = '{"Network":"10.0.0.0/16","SubnetMax":"10.0.9.1"}'; message = 'SubnetMax is not on a SubnetLen boundary: 10.0.9.1' }
    ) {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.1.0.0/16"}' | Out-Null
        $err = $null
        try { Set-FlannelNetworkConfig -Json $json -EtcdEndpoint $etcd -EtcdPrefix $prefix -ErrorAction Stop } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.Exception.Message | Should -BeExactly $message
        $err.FullyQualifiedErrorId | Should -BeLike 'FlannelNetworkConfigInvalid,*'
        Get-EtcdValue "$prefix/config" | Should -BeExactly '{"Network":"10.1.0.0/16"}'
    }

    It 'takes endpoints and prefix from FLANNELD_* variables, and a parameter wins' {
        $env:FLANNELD_ETCD_ENDPOINTS = $etcd
        $env:FLANNELD_ETCD_PREFIX = $prefix
        try {
            Set-FlannelNetworkConfig -Network 10.7.0.0/16
            Get-EtcdValue "$prefix/config" | Should -BeExactly '{"Network":"10.7.0.0/16"}'
            $other = New-TestPrefix 'cfg'
            Set-FlannelNetworkConfig -Network 10.8.0.0/16 -EtcdPrefix $other
            Get-EtcdValue "$other/config" | Should -BeExactly '{"Network":"10.8.0.0/16"}'
        }
        finally {
            Remove-Item Env:FLANNELD_ETCD_ENDPOINTS, Env:FLANNELD_ETCD_PREFIX -ErrorAction SilentlyContinue
        }
    }

    It 'fails within a bounded time naming the endpoints when etcd is unreachable' {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $err = $null
        try { Set-FlannelNetworkConfig -Network 10.0.0.0/16 -EtcdEndpoint http://127.0.0.1:1 -EtcdTimeoutSec 2 -ErrorAction Stop } catch { $err = $_ }
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
        $err.FullyQualifiedErrorId | Should -BeLike 'FlannelEtcdUnavailable,*'
        $err.Exception.Message | Should -BeLike '*http://127.0.0.1:1*'
    }
}

Describe 'Get-FlannelNetworkConfig' {
    BeforeEach { $script:prefix = New-TestPrefix 'cfg' }

    It 'shows the backend type under a BackendType header in the table view' {
        $p = New-TestPrefix 'cfgview'
        Invoke-Etcdctl put "$p/config" '{"Network":"10.2.0.0/16","Backend":{"Type":"vxlan","VNI":4}}' | Out-Null
        $lines = (Get-FlannelNetworkConfig -EtcdEndpoint $etcd -EtcdPrefix $p | Out-String -Width 200) -split "`n" | Where-Object { $_.Trim() }
        $lines[0] | Should -Match '\bBackendType\b'
        $lines[2] | Should -Match '\bvxlan\b'
        $lines[2] | Should -Not -Match 'VNI'
    }

    It 'reads the seed config written with etcdctl as flannel does' {
        Invoke-Etcdctl put "$prefix/config" '{"NetWork":"10.0.0.0/16"}' | Out-Null
        $c = Get-FlannelNetworkConfig -EtcdEndpoint $etcd -EtcdPrefix $prefix
        $c.Network | Should -Be '10.0.0.0/16'
        $c.SubnetLen | Should -Be 24
        $c.SubnetMin | Should -Be '10.0.1.0'
        $c.SubnetMax | Should -Be '10.0.255.0'
        $c.BackendType | Should -Be 'udp'
        $c.Json | Should -BeExactly '{"NetWork":"10.0.0.0/16"}'
        $c.Key | Should -Be "$prefix/config"
    }

    It 'masks host bits and honours the last duplicate key' {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","network":"10.3.4.0/16","Backend":{"Type":"ALLOC"}}' | Out-Null
        $c = Get-FlannelNetworkConfig -EtcdEndpoint $etcd -EtcdPrefix $prefix
        $c.Network | Should -Be '10.3.0.0/16'
        $c.BackendType | Should -Be 'alloc'
    }

    It "reports flannel's message when the config is missing" {
        $err = $null
        try { Get-FlannelNetworkConfig -EtcdEndpoint $etcd -EtcdPrefix $prefix -ErrorAction Stop } catch { $err = $_ }
        $err.Exception.Message | Should -BeExactly 'flannel config not found in etcd store. Did you create your config using etcdv3 API?'
        $err.FullyQualifiedErrorId | Should -BeLike 'FlannelNetworkConfigNotFound,*'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}
