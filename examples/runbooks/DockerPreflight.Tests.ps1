# Runbook: run on a Docker host before restarting Docker with flannel's options. The lease in
# subnet.env must be this host's and healthy, docker_opts.env must be what subnet.env gives now
# (mk-docker-opts / Export-FlannelDockerOptions), and an existing docker0 must already carry
# FLANNEL_SUBNET with an MTU no larger than FLANNEL_MTU, or Docker comes back on the wrong network.
#   Invoke-Pester -Container (New-PesterContainer -Path DockerPreflight.Tests.ps1 -Data @{ EtcdEndpoint = 'http://10.1.0.5:2379' })
param(
    [string[]] $EtcdEndpoint,
    [string] $EtcdPrefix,
    [string] $SubnetFile = '/run/flannel/subnet.env',
    [string] $DockerOptsFile = '/run/docker_opts.env',
    # The Export-FlannelDockerOptions options the host uses, e.g. @{ Combined = $true }.
    [hashtable] $DockerOptions = @{},
    [string] $Bridge = 'docker0',
    [string] $Module = 'FlannelPS'
)

BeforeDiscovery {
    $leaseChecks = 'SubnetFile', 'NetworkConfig', 'SubnetFileNetwork', 'Lease', 'LeaseTtl', 'LeaseRange'
}

BeforeAll {
    Import-Module $Module
    $etcd = @{}
    if ($EtcdEndpoint) { $etcd.EtcdEndpoint = $EtcdEndpoint }
    if ($EtcdPrefix) { $etcd.EtcdPrefix = $EtcdPrefix }
    $script:checks = @(Test-FlannelNode @etcd -SubnetFile $SubnetFile)
    $script:values = @{}
    if (Test-Path -LiteralPath $SubnetFile) {
        foreach ($line in Get-Content -LiteralPath $SubnetFile) { if ($line -match '^([A-Z_]+)=(.*)$') { $values[$Matches[1]] = $Matches[2] } }
    }
    $script:link = $null
    $json = & ip -j addr show dev $Bridge 2>$null
    if ($LASTEXITCODE -eq 0 -and $json) { $script:link = @($json | ConvertFrom-Json)[0] }
}

Describe 'Docker restart pre-flight' {
    It 'flannel check <_> passes' -ForEach $leaseChecks {
        $c = $checks | Where-Object Name -EQ $_
        $c | Should -Not -BeNullOrEmpty
        $c.Status | Should -BeIn 'Pass', 'Warning' -Because $c.Message
    }

    It 'docker_opts.env holds what subnet.env gives now' {
        Test-Path -LiteralPath $DockerOptsFile | Should -BeTrue -Because "$DockerOptsFile is what the Docker unit reads"
        $expected = Export-FlannelDockerOptions -Path $DockerOptsFile -SubnetFile $SubnetFile @DockerOptions -WhatIf -PassThru 6>$null
        Get-Content -Raw -LiteralPath $DockerOptsFile | Should -BeExactly $expected.Content -Because 'a stale docker_opts.env restarts Docker with an old --bip or --mtu: run Export-FlannelDockerOptions'
    }

    It 'the bridge carries FLANNEL_SUBNET' {
        if (-not $link) { Set-ItResult -Skipped -Because "$Bridge does not exist yet (Docker creates it from --bip)" }
        $inet = @($link.addr_info | Where-Object family -EQ 'inet' | ForEach-Object { "$($_.local)/$($_.prefixlen)" })
        $inet | Should -Contain $values['FLANNEL_SUBNET'] -Because "$Bridge has $($inet -join ', ') and Docker refuses a --bip that differs from the bridge's address"
    }

    It 'the bridge MTU is not larger than FLANNEL_MTU' {
        if (-not $link) { Set-ItResult -Skipped -Because "$Bridge does not exist yet" }
        $link.mtu | Should -BeLessOrEqual ([int]$values['FLANNEL_MTU']) -Because "$Bridge MTU $($link.mtu) above the overlay MTU makes large transfers hang"
    }
}
