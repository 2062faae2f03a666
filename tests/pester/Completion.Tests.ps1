# Tab completion as a user gets it (TabExpansion2 on a command line): backend types from the
# ValidateSet, interface names from this namespace, lease subnets read from the test etcd.
BeforeAll {
    Import-Module $env:FLANNELPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Assert-TestNamespace
    $script:etcd = Get-TestEtcdEndpoint
    $script:prefix = New-TestPrefix 'complete'
    $script:common = @{ EtcdEndpoint = $etcd; EtcdPrefix = $prefix }
    Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16"}' | Out-Null
    New-FlannelSubnetLease -PublicIP 192.0.2.117 -PreferredSubnet 10.0.17.0/24 @common | Out-Null
    New-FlannelSubnetLease -PublicIP 192.0.2.118 -PreferredSubnet 10.0.18.0/24 @common | Out-Null
    New-FlannelSubnetLease -PublicIP 192.0.2.120 -PreferredSubnet 10.0.200.0/24 @common | Out-Null
    $script:ul = New-TestUnderlay -Name "fpc$PID" -Address 192.0.2.131/24

    function Complete([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }
}

AfterAll {
    Remove-TestUnderlay $ul
    Invoke-Etcdctl del --prefix $prefix | Out-Null
}

Describe 'Tab completion' {
    It 'completes -BackendType of Set-FlannelNetworkConfig from its ValidateSet' {
        (Complete 'Set-FlannelNetworkConfig -BackendType ').CompletionText | Should -Be 'alloc', 'host-gw', 'udp', 'vxlan' -Because 'PowerShell sorts ValidateSet completions'
        (Complete 'Set-FlannelNetworkConfig -BackendType h').CompletionText | Should -Be 'host-gw'
    }

    It 'completes -Interface of Start-FlannelNode with this namespace''s interfaces and their addresses' {
        $all = Complete 'Start-FlannelNode -Interface '
        $all.CompletionText | Should -Contain 'lo'
        $all.CompletionText | Should -Contain $ul
        ($all | Where-Object CompletionText -EQ $ul).ToolTip | Should -BeLike "*192.0.2.131*"
        (Complete "Start-FlannelNode -Interface $($ul.Substring(0, 4))").CompletionText | Should -Contain $ul
        (Complete "Start-FlannelNode -Interface $($ul.Substring(0, 4))").CompletionText | Should -Not -Contain 'lo'
    }

    It 'completes -Subnet of <_> with the lease subnets under the given -EtcdPrefix' -ForEach 'Get-FlannelSubnetLease', 'Remove-FlannelSubnetLease' {
        $line = "$_ -EtcdEndpoint $etcd -EtcdPrefix $prefix -Subnet "
        (Complete $line).CompletionText | Should -Be '10.0.17.0/24', '10.0.18.0/24', '10.0.200.0/24'
        (Complete "${line}10.0.1").CompletionText | Should -Be '10.0.17.0/24', '10.0.18.0/24'
        (Complete "${line}'10.0.2").CompletionText | Should -Be '10.0.200.0/24'
    }

    It 'offers no subnets (and no error) when etcd is unreachable' {
        $r = Complete "Get-FlannelSubnetLease -EtcdEndpoint http://127.0.0.1:9 -EtcdPrefix $prefix -Subnet "
        $r | Where-Object CompletionText -Like '10.*' | Should -BeNullOrEmpty
    }
}
