# Get-/New-/Remove-FlannelSubnetLease against the real test etcd: values and TTLs as flanneld writes them.
BeforeAll {
    Import-Module $env:FLANNELPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    $script:etcd = Get-TestEtcdEndpoint
}

Describe 'Subnet leases' {
    BeforeEach {
        $script:prefix = New-TestPrefix 'lease'
        $script:common = @{ EtcdEndpoint = $etcd; EtcdPrefix = $prefix }
        Invoke-Etcdctl put "$prefix/config" '{"NetWork":"10.0.0.0/16"}' | Out-Null
    }

    It 'acquires a /24 among the first 100 candidates with flanneld''s value and a 24 h etcd lease' {
        $l = New-FlannelSubnetLease -PublicIP 192.0.2.10 @common
        $l.Subnet | Should -Match '^10\.0\.(\d+)\.0/24$'
        [int]("$($l.Subnet)".Split('.')[2]) | Should -BeIn (1..100)
        $key = "$prefix/subnets/$($l.Subnet -replace '/', '-')"
        $l.Key | Should -Be $key
        Get-EtcdValue $key | Should -BeExactly '{"PublicIP":"192.0.2.10","PublicIPv6":null}'
        Get-EtcdLeaseTtl $key | Should -Be 86400
        $l.IsReservation | Should -BeFalse
        $l.Expiration | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddHours(23))
    }

    It 'takes -EtcdEndpoints, the spelling of flanneld''s -etcd-endpoints, as -EtcdEndpoint' {
        $l = New-FlannelSubnetLease -PublicIP 192.0.2.13 -EtcdEndpoints $etcd -EtcdPrefix $prefix
        @(Get-FlannelSubnetLease -EtcdEndpoints $etcd -EtcdPrefix $prefix).Subnet | Should -Be @($l.Subnet)
    }

    It 'gives the same subnet back to the same PublicIP' {
        $a = New-FlannelSubnetLease -PublicIP 192.0.2.11 @common
        $b = New-FlannelSubnetLease -PublicIP 192.0.2.11 @common
        $b.Subnet | Should -Be $a.Subnet
        @(Get-FlannelSubnetLease @common).Count | Should -Be 1
    }

    It 'writes a reservation with no etcd lease that its owner then uses' {
        $r = New-FlannelSubnetLease -Reservation -Subnet 10.0.200.0/24 -PublicIP 192.0.2.12 @common
        $r.IsReservation | Should -BeTrue
        Get-EtcdLeaseTtl "$prefix/subnets/10.0.200.0-24" | Should -Be 0
        $l = New-FlannelSubnetLease -PublicIP 192.0.2.12 @common
        $l.Subnet | Should -Be '10.0.200.0/24'
        $l.IsReservation | Should -BeTrue
        Get-EtcdLeaseTtl "$prefix/subnets/10.0.200.0-24" | Should -Be 0
    }

    It 'refuses a reservation outside the config with the bad value named' {
        { New-FlannelSubnetLease -Reservation -Subnet 10.9.0.0/24 -PublicIP 192.0.2.12 @common -ErrorAction Stop } |
            Should -Throw -ExpectedMessage '*10.9.0.0/24*'
    }

    It 'filters by subnet wildcard and public IP, and reports a literal subnet that is absent' {
        Invoke-Etcdctl put "$prefix/subnets/10.0.7.0-24" '{"PublicIP":"192.0.2.20","PublicIPv6":null}' | Out-Null
        Invoke-Etcdctl put "$prefix/subnets/10.0.8.0-24" '{"PublicIP":"192.0.2.21"}' | Out-Null
        Invoke-Etcdctl put "$prefix/subnets/garbage" 'x' | Out-Null
        @(Get-FlannelSubnetLease @common).Subnet | Should -Be @('10.0.7.0/24', '10.0.8.0/24')
        @(Get-FlannelSubnetLease -Subnet '10.0.7*' @common).PublicIP | Should -Be @('192.0.2.20')
        @(Get-FlannelSubnetLease -PublicIP 192.0.2.21 @common).Subnet | Should -Be @('10.0.8.0/24')
        Get-FlannelSubnetLease -Subnet 10.0.99.0/24 @common -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'FlannelSubnetLeaseNotFound,*'
    }

    It 'sorts Subnet and PublicIP as addresses, and compares and converts them as text (issue 13 item 10)' {
        Invoke-Etcdctl put "$prefix/subnets/10.0.9.0-24" '{"PublicIP":"192.0.2.100","PublicIPv6":null}' | Out-Null
        Invoke-Etcdctl put "$prefix/subnets/10.0.72.0-24" '{"PublicIP":"192.0.2.9","PublicIPv6":null}' | Out-Null
        Invoke-Etcdctl put "$prefix/subnets/10.0.100.0-24" '{"PublicIP":"192.0.2.72","PublicIPv6":null}' | Out-Null
        $all = @(Get-FlannelSubnetLease @common)
        # Text order would be 10.0.9 > 10.0.72 > 10.0.100 and 192.0.2.100 < .72 < .9.
        ($all | Sort-Object Subnet -Descending | ForEach-Object { "$($_.Subnet)" }) | Should -Be @('10.0.100.0/24', '10.0.72.0/24', '10.0.9.0/24')
        ($all | Sort-Object PublicIP | ForEach-Object { "$($_.PublicIP)" }) | Should -Be @('192.0.2.9', '192.0.2.72', '192.0.2.100')
        $l = $all | Where-Object Subnet -EQ '10.0.72.0/24'
        $l.PublicIP -eq '192.0.2.9' | Should -BeTrue
        '10.0.72.0/24' -eq $l.Subnet | Should -BeTrue
        [FlannelPS.Model.Ipv4Subnet]'10.0.72.0/24' -eq $l.Subnet | Should -BeTrue
        $l.Subnet -gt '10.0.9.0/24' | Should -BeTrue
        @($all | Where-Object Subnet -Like '10.0.1*').Count | Should -Be 1
        $json = $l | ConvertTo-Json | ConvertFrom-Json
        $json.Subnet.Address, $json.Subnet.PrefixLength, $json.PublicIP.Address | Should -Be @('10.0.72.0', 24, '192.0.2.9')
        { [FlannelPS.Model.Ipv4Subnet]'10.0.300.0/24' } | Should -Throw -ExpectedMessage '*10.0.300.0/24*'
    }

    It 'removes what Get emits, from the pipeline, and honours -WhatIf' {
        New-FlannelSubnetLease -PublicIP 192.0.2.30 @common | Out-Null
        New-FlannelSubnetLease -PublicIP 192.0.2.31 @common | Out-Null
        Get-FlannelSubnetLease @common | Remove-FlannelSubnetLease @common -WhatIf
        @(Get-FlannelSubnetLease @common).Count | Should -Be 2
        Get-FlannelSubnetLease -PublicIP 192.0.2.30 @common | Remove-FlannelSubnetLease @common -Force
        @(Get-FlannelSubnetLease @common).PublicIP | Should -Be @('192.0.2.31')
    }

    It 'removes a piped lease by its own key, prefix and endpoint, not the defaults (issue 13 item 1)' {
        $other = "$prefix-other"
        $value = '{"PublicIP":"192.0.2.33","PublicIPv6":null}'
        Invoke-Etcdctl put "$prefix/subnets/10.0.33.0-24" $value | Out-Null
        Invoke-Etcdctl put "$other/subnets/10.0.33.0-24" $value | Out-Null
        $saved = $env:FLANNELD_ETCD_PREFIX
        $env:FLANNELD_ETCD_PREFIX = $prefix   # the default prefix the piped lease must NOT be deleted under
        try {
            $l = Get-FlannelSubnetLease -EtcdEndpoint $etcd -EtcdPrefix $other
            $l.EtcdPrefix | Should -Be $other
            $l.EtcdEndpoint | Should -Be @($etcd)
            # Get | Get reads the lease again where it came from.
            ($l | Get-FlannelSubnetLease -EtcdEndpoint $etcd).Key | Should -Be "$other/subnets/10.0.33.0-24"
            # An explicit -EtcdPrefix naming another place is refused, and nothing is deleted.
            $l | Remove-FlannelSubnetLease -EtcdEndpoint $etcd -EtcdPrefix $prefix -Force -ErrorVariable e -ErrorAction SilentlyContinue
            $e[0].FullyQualifiedErrorId | Should -BeLike 'FlannelPipelineOriginMismatch,*'
            Get-EtcdValue "$other/subnets/10.0.33.0-24" | Should -BeExactly $value
            $l | Remove-FlannelSubnetLease -EtcdEndpoint $etcd -Force
        }
        finally { $env:FLANNELD_ETCD_PREFIX = $saved }
        Get-EtcdValue "$other/subnets/10.0.33.0-24" | Should -BeNullOrEmpty
        Get-EtcdValue "$prefix/subnets/10.0.33.0-24" | Should -BeExactly $value
    }

    It 'reads a piped lease again by its key: its new value, the filters, or a not-found error once it is gone' {
        Invoke-Etcdctl put "$prefix/subnets/10.0.34.0-24" '{"PublicIP":"192.0.2.34","PublicIPv6":null}' | Out-Null
        $l = Get-FlannelSubnetLease @common -Subnet 10.0.34.0/24
        Invoke-Etcdctl put "$prefix/subnets/10.0.34.0-24" '{"PublicIP":"192.0.2.35","PublicIPv6":null}' | Out-Null
        # A bad key beside it is not read: listing every lease again would warn about it.
        Invoke-Etcdctl put "$prefix/subnets/10.0.36.0-24" 'not json' | Out-Null
        ($l | Get-FlannelSubnetLease @common -WarningVariable w).PublicIP | Should -Be '192.0.2.35'
        @($w).Count | Should -Be 0
        Invoke-Etcdctl del "$prefix/subnets/10.0.36.0-24" | Out-Null
        @($l | Get-FlannelSubnetLease @common -PublicIP 192.0.2.34).Count | Should -Be 0
        @($l | Get-FlannelSubnetLease @common -Reservation).Count | Should -Be 1
        Invoke-Etcdctl del "$prefix/subnets/10.0.34.0-24" | Out-Null
        $got = @($l | Get-FlannelSubnetLease @common -ErrorVariable e -ErrorAction SilentlyContinue)
        $got.Count | Should -Be 0
        $e[0].FullyQualifiedErrorId | Should -BeLike 'FlannelSubnetLeaseNotFound,*'
        "$($e[0])" | Should -BeLike "*'10.0.34.0/24' under $prefix/subnets*"
    }

    It 'warns about each key it skips for a bad value instead of dropping it silently (issue 13 item 6)' {
        Invoke-Etcdctl put "$prefix/subnets/10.0.41.0-24" 'not json' | Out-Null
        Invoke-Etcdctl put "$prefix/subnets/10.0.42.0-24" '{"PublicIP":"192.0.2.42"}' | Out-Null
        $got = @(Get-FlannelSubnetLease @common -WarningVariable w -WarningAction SilentlyContinue)
        $got.Subnet | Should -Be @('10.0.42.0/24')
        ($w -join "`n") | Should -BeLike "*$prefix/subnets/10.0.41.0-24*"
    }

    It 'serves a whole pipeline of records over one etcd connection (Set-FlannelNetworkConfig, Get- and Remove-FlannelSubnetLease)' {
        Assert-TestNamespace  # captures on this namespace's lo, where the test etcd listens
        $port = ([uri]$etcd).Port
        1..12 | ForEach-Object { Invoke-Etcdctl put "$prefix/subnets/10.0.$_.0-24" '{"PublicIP":"192.0.2.60"}' | Out-Null }
        $wanted = 1..12 | ForEach-Object { [pscustomobject]@{ Subnet = "10.0.$_.0/24" } }
        $out = Join-Path ([IO.Path]::GetTempPath()) "fp-syn-$PID-$([guid]::NewGuid().ToString('n')).txt"
        $err = "$out.err"
        # New TCP connections to etcd: SYN without ACK.
        $cap = Start-Process tcpdump -PassThru -RedirectStandardOutput $out -RedirectStandardError $err -ArgumentList @(
            '-i', 'lo', '-n', '-l', "tcp dst port $port and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn")
        try {
            Wait-Until -TimeoutSec 10 -Because "tcpdump listening" -Condition { (Test-Path $err) -and (Get-Content -Raw $err) -match "listening on" }
            1..8 | ForEach-Object { '{"Network":"10.0.0.0/16","SubnetLen":2' + (3 + $_ % 2) + '}' } | Set-FlannelNetworkConfig @common -Confirm:$false -Force -WarningAction SilentlyContinue
            $got = @($wanted | Get-FlannelSubnetLease @common)
            $got | Remove-FlannelSubnetLease @common -Force
            Start-Sleep -Milliseconds 300  # let tcpdump print the last SYN line
        }
        finally {
            Stop-Process -Id $cap.Id -ErrorAction SilentlyContinue
            $cap.WaitForExit(5000) | Out-Null
        }
        $syns = @(Get-Content $out | Where-Object { $_ -match "> 127\.0\.0\.1\.$port" })
        Remove-Item $out, $err -ErrorAction SilentlyContinue
        $got.Count | Should -Be 12
        @(Get-FlannelSubnetLease @common).Count | Should -Be 0
        # Measured: 4-5 (gRPC may open a second connection in an invocation). With one registry per
        # record: 12-13 when only Set made its own, 30 for the Get and Remove part alone.
        $syns.Count | Should -BeLessOrEqual 6 -Because 'Set, Get and Remove each serve all their records over one connection'
        $syns.Count | Should -BeGreaterThan 0 -Because 'the capture must have seen the connections'
    }

    It 'says out of subnets when none is free' {
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/28"}' | Out-Null  # 3 subnets of /30
        1..3 | ForEach-Object { New-FlannelSubnetLease -PublicIP "192.0.2.4$_" @common | Out-Null }
        $err = $null
        try { New-FlannelSubnetLease -PublicIP 192.0.2.49 @common -ErrorAction Stop } catch { $err = $_ }
        $err.Exception.Message | Should -BeExactly 'out of subnets'
        $err.FullyQualifiedErrorId | Should -BeLike 'FlannelOutOfSubnets,*'
    }
}
