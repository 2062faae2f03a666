# Start-FlannelNode / Get-FlannelNode / the node job, with the alloc backend (no datapath), against
# the real test etcd. Runs inside the suite's test namespace; the underlay is a veth pair there.
BeforeAll {
    Import-Module $env:FLANNELPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
    Assert-TestNamespace
    $script:etcd = Get-TestEtcdEndpoint
    $script:ul = New-TestUnderlay -Name "fpn$PID" -Address 192.0.2.101/24, 192.0.2.102/24
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "fpnode-$PID"
    New-Item -ItemType Directory $dir -Force | Out-Null
}

AfterAll {
    Get-Job -ErrorAction SilentlyContinue | Where-Object PSJobTypeName -eq FlannelNodeJob | Remove-Job -Force
    Remove-TestUnderlay $ul
    Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Start-FlannelNode (alloc backend)' {
    BeforeEach {
        $script:prefix = New-TestPrefix 'node'
        $script:common = @{ EtcdEndpoint = $etcd; EtcdPrefix = $prefix }
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        $script:subnetFile = Join-Path $dir "$([guid]::NewGuid().ToString('n')).env"
    }
    AfterEach {
        Get-Job | Where-Object PSJobTypeName -eq FlannelNodeJob | Remove-Job -Force
    }

    It 'returns a job of its own type that writes subnet.env exactly and shows in Get-Job' {
        $job = Start-FlannelNode -Interface $ul -PublicIP 192.0.2.101 -SubnetFile $subnetFile @common
        $job.PSJobTypeName | Should -Be 'FlannelNodeJob'
        (Get-Job -Id $job.Id).InstanceId | Should -Be $job.InstanceId
        Wait-Until { Test-Path $subnetFile } -Because 'subnet.env' | Out-Null
        $status = Get-FlannelNode -Job $job
        $status.State | Should -Be 'Running'
        ($status | ConvertTo-Json -Depth 1 -WarningAction SilentlyContinue | ConvertFrom-Json).State | Should -BeExactly 'Running' -Because 'the state is a name in JSON'
        $status.Subnet | Should -Match '^10\.0\.\d+\.0/24$'
        $first = ($status.Subnet -replace '\.0/24$', '.1/24')
        Get-Content $subnetFile -Raw | Should -BeExactly "FLANNEL_NETWORK=10.0.0.0/16`nFLANNEL_SUBNET=$first`nFLANNEL_MTU=1500`nFLANNEL_IPMASQ=false`n"
        (Get-Item $subnetFile).UnixMode | Should -Be '-rw-r--r--'
        $events = Receive-Job $job
        ($events | Where-Object Kind -eq 'LeaseAcquired').Subnet | Should -Be $status.Subnet
    }

    It 'sees another node as a peer, and its departure' {
        $a = Start-FlannelNode -Name nodeA -Interface $ul -PublicIP 192.0.2.101 -SubnetFile $subnetFile @common
        Wait-Until { (Get-FlannelNode -Job $a).State -eq 'Running' } | Out-Null
        $b = New-FlannelSubnetLease -PublicIP 192.0.2.150 @common
        Wait-Until { (Get-FlannelNode -Job $a).Peers.Subnet -contains $b.Subnet } -Because 'peer added' | Out-Null
        (Get-FlannelNode nodeA).Peers[0].PublicIP | Should -Be '192.0.2.150'
        Remove-FlannelSubnetLease -Subnet $b.Subnet -Force @common
        Wait-Until { (Get-FlannelNode -Job $a).PeerCount -eq 0 } -Because 'peer removed' | Out-Null
        $kinds = (Receive-Job $a).Kind
        $kinds | Should -Contain 'PeerAdded'
        $kinds | Should -Contain 'PeerRemoved'
    }

    It 'stops cleanly with Stop-Job and leaves the lease in etcd; a restart keeps the subnet' {
        $job = Start-FlannelNode -Interface $ul -PublicIP 192.0.2.101 -SubnetFile $subnetFile @common
        Wait-Until { (Get-FlannelNode -Job $job).State -eq 'Running' } | Out-Null
        $subnet = (Get-FlannelNode -Job $job).Subnet
        Stop-Job $job
        $job.State | Should -Be 'Stopped'
        (Get-FlannelSubnetLease @common).Subnet | Should -Be $subnet
        Remove-Job $job
        Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        Remove-Item $subnetFile
        $again = Start-FlannelNode -Interface $ul -PublicIP 192.0.2.101 -SubnetFile $subnetFile @common
        Wait-Until { (Get-FlannelNode -Job $again).State -eq 'Running' } | Out-Null
        (Get-FlannelNode -Job $again).Subnet | Should -Be $subnet
    }

    It 'reuses the subnet from subnet.env when the PublicIP changed and the subnet is free' {
        $job = Start-FlannelNode -Interface $ul -PublicIP 192.0.2.101 -SubnetFile $subnetFile @common
        Wait-Until { (Get-FlannelNode -Job $job).State -eq 'Running' } | Out-Null
        $subnet = (Get-FlannelNode -Job $job).Subnet
        $job | Remove-Job -Force
        Remove-FlannelSubnetLease -Subnet $subnet -Force @common
        $moved = Start-FlannelNode -Interface $ul -PublicIP 192.0.2.102 -SubnetFile $subnetFile @common
        Wait-Until { (Get-FlannelNode -Job $moved).State -eq 'Running' } | Out-Null
        (Get-FlannelNode -Job $moved).Subnet | Should -Be $subnet
    }

    It 'waits for a missing config with flannel''s message and starts once it is written' {
        Invoke-Etcdctl del "$prefix/config" | Out-Null
        $job = Start-FlannelNode -Interface $ul -PublicIP 192.0.2.101 -SubnetFile $subnetFile @common
        Wait-Until { (Get-FlannelNode -Job $job).State -eq 'WaitingForConfig' } | Out-Null
        Wait-Until { (Get-FlannelNode -Job $job).LastError } | Should -BeExactly 'flannel config not found in etcd store. Did you create your config using etcdv3 API?'
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","SubnetLen":31,"Backend":{"Type":"alloc"}}' | Out-Null
        Wait-Until { (Get-FlannelNode -Job $job).LastError -eq 'SubnetLen must be less than /31' } -Because 'invalid config reported' | Out-Null
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        Wait-Until { (Get-FlannelNode -Job $job).State -eq 'Running' } -Because 'config picked up' | Out-Null
        (Receive-Job $job | Where-Object Kind -eq 'ConfigError').Message |
            Should -Contain "Couldn't fetch network config: flannel config not found in etcd store. Did you create your config using etcdv3 API?"
    }

    It 're-acquires the same subnet in place when its lease is deleted' {
        $job = Start-FlannelNode -Interface $ul -PublicIP 192.0.2.101 -SubnetFile $subnetFile @common
        Wait-Until { (Get-FlannelNode -Job $job).State -eq 'Running' } | Out-Null
        $subnet = (Get-FlannelNode -Job $job).Subnet
        Receive-Job $job | Out-Null
        Invoke-Etcdctl del "$prefix/subnets/$($subnet -replace '/', '-')" | Out-Null
        # Not Receive-Job -Keep in a loop: it sizes an array from the output's count and then copies,
        # so an event added in between fails it ("Destination array was not long enough"). Reading
        # (and so draining) is atomic.
        $events = [System.Collections.Generic.List[object]]::new()
        Wait-Until { $events.AddRange(@(Receive-Job $job)); $events | Where-Object Kind -eq 'LeaseAcquired' } -Because 're-acquired' | Out-Null
        $events.Kind | Should -Contain 'LeaseLost'
        (Get-FlannelNode -Job $job).Subnet | Should -Be $subnet
        (Get-FlannelNode -Job $job).State | Should -Be 'Running'
        Get-EtcdLeaseTtl "$prefix/subnets/$($subnet -replace '/', '-')" | Should -Be 86400
    }

    It 'rejects a renew margin out of range with flannel''s message' {
        { Start-FlannelNode -SubnetLeaseRenewMargin 1440 -SubnetFile $subnetFile @common -ErrorAction Stop } |
            Should -Throw -ExpectedMessage 'Invalid subnet-lease-renew-margin option, out of acceptable range'
    }

    It 'runs in the foreground with -Wait and stops cleanly on SIGTERM' {
        $module = $env:FLANNELPS_MODULE
        $log = Join-Path $dir 'wait.log'
        $cmd = "Import-Module '$module'; Start-FlannelNode -Wait -Interface $ul -PublicIP 192.0.2.101 -SubnetFile '$subnetFile' -EtcdEndpoint $etcd -EtcdPrefix $prefix | ForEach-Object { `$_.Message }"
        $pwsh = Get-FlannelTestbedPwshCommand
        $p = Start-Process -FilePath $pwsh[0] -ArgumentList (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($cmd)))) `
            -PassThru -NoNewWindow -RedirectStandardOutput $log -RedirectStandardError "$log.err"
        try {
            Wait-Until { Test-Path $subnetFile } -TimeoutSec 30 -Because 'foreground node ready' | Out-Null
            & kill -TERM $p.Id
            $p.WaitForExit(15000) | Should -BeTrue
            $p.ExitCode | Should -Be 0
            Get-Content $log | Should -Contain 'State: Stopped'
        }
        finally {
            if (-not $p.HasExited) { $p.Kill() }
        }
    }
}
