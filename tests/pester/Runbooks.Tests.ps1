# The operator runbooks in examples/runbooks, exercised as operators run them: a nested
# Invoke-Pester with the etcd endpoint as data, inside a host of a two-host testbed running real
# FlannelPS nodes. Healthy → no failures; seeded problems (duplicate PublicIP, out-of-range lease,
# missing reservation, blackholed peer, stale docker_opts.env, wrong docker0) → exactly those fail.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-Module $env:FLANNELPS_MODULE -Force
    $script:RunId = if ($env:FLANNELPS_TEST_RUNID) { $env:FLANNELPS_TEST_RUNID } else { $PID }
    $script:Module = $env:FLANNELPS_MODULE
    $script:Pwsh = Get-FlannelTestbedPwshCommand
    $script:PesterPath = (Get-Module Pester).Path
    $script:Runbooks = (Resolve-Path (Join-Path $PSScriptRoot '../../examples/runbooks')).Path
    $script:tb = $null
    $script:tb = New-FlannelTestbed -Name "fpop-$RunId-rb" -HostCount 2
    $script:Ep = $tb.EtcdEndpoint
    $script:H1 = $tb.Hosts[0]
    $script:H2 = $tb.Hosts[1]
    function Etcdctl { Invoke-FlannelTestbedEtcdctl -Testbed $tb @args }
    Etcdctl put /coreos.com/network/config '{"Network":"10.0.0.0/16"}' | Out-Null
    $started = foreach ($h in $tb.Hosts) { Start-FlannelTestbedNode -Testbed $tb -HostName $h.Name -Module $Module -ArgumentList '-IptablesResyncSec 3600' }
    $null = $started | Wait-FlannelTestbedNode
    function Get-EnvValue($h, $key) { ((Get-Content $h.SubnetFile | Where-Object { $_ -like "$key=*" }) -replace "^$key=", '') }
    $script:Bip1 = Get-EnvValue $H1 FLANNEL_SUBNET
    $script:S1 = $Bip1 -replace '\.1/24$', '.0/24'
    $script:S2 = (Get-EnvValue $H2 FLANNEL_SUBNET) -replace '\.1/24$', '.0/24'
    $null = Wait-FlannelTestbedCondition -Description 'overlay h2 -> h1' -TimeoutSeconds 30 -IntervalMilliseconds 500 -Condition {
        (Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h2 -PassThru -Command 'ping', '-c', '1', '-W', '1', ($S1 -replace '/24$', '')).ExitCode -eq 0
    }
    # h1 is a Docker host: docker_opts.env from its subnet.env, and docker0 on FLANNEL_SUBNET.
    $script:DockerOpts = Join-Path $H1.WorkDir 'docker_opts.env'
    Export-FlannelDockerOptions -Path $DockerOpts -SubnetFile $H1.SubnetFile | Out-Null
    $null = Add-FlannelTestbedContainer -Testbed $tb -HostName h1 -Subnet $Bip1 -Mtu 1472

    # Runs one runbook with Invoke-Pester inside host h1 and returns its counts and failed test names.
    function Invoke-Runbook([string] $Name, [hashtable] $Data) {
        $data = $Data + @{ Module = $Module }
        $dataJson = ($data | ConvertTo-Json -Compress -Depth 5) -replace "'", "''"
        $path = Join-Path $Runbooks "$Name.Tests.ps1"
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$PesterPath'
`$data = '$dataJson' | ConvertFrom-Json -AsHashtable
`$c = New-PesterContainer -Path '$path' -Data `$data
`$r = Invoke-Pester -Container `$c -PassThru -Output None
'@@JSON@@' + ([pscustomobject]@{
    Passed = `$r.PassedCount; Failed = `$r.FailedCount; Skipped = `$r.SkippedCount; FailedContainers = `$r.FailedContainersCount
    FailedTests = @(`$r.Failed | ForEach-Object { `$_.ExpandedPath })
    Messages = @(`$r.Failed | ForEach-Object { `$_.ErrorRecord[0].Exception.Message })
} | ConvertTo-Json -Compress -Depth 4)
"@
        $r = Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -PassThru -TimeoutSeconds 300 -Command (@($Pwsh) + @('-NoProfile', '-NonInteractive',
                '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))))
        $line = @($r.Output -split "`n" | Where-Object { $_.StartsWith('@@JSON@@') })[-1]
        if (-not $line) { throw "runbook $Name gave no result (exit $($r.ExitCode)): $($r.Error) $($r.Output)" }
        $line.Substring(8) | ConvertFrom-Json
    }
    $script:Etcd = @{ EtcdEndpoint = $Ep; EtcdPrefix = '/coreos.com/network' }
}

AfterAll {
    Remove-FlannelTestbed -Testbed $tb
}

Describe 'LeaseHygiene runbook' {
    It 'passes on a healthy cluster: config, capacity and four tests per lease' {
        $r = Invoke-Runbook LeaseHygiene $Etcd
        $r.FailedTests | Should -BeNullOrEmpty
        $r.FailedContainers | Should -Be 0
        $r.Passed | Should -Be 10
    }

    It 'reports a duplicate PublicIP, an out-of-range lease and a missing reservation' {
        $grant = Etcdctl lease grant 600
        $id = ([regex]::Match($grant, 'lease ([0-9a-f]+) granted')).Groups[1].Value
        Etcdctl put --lease=$id /coreos.com/network/subnets/10.0.251.0-24 '{"PublicIP":"192.0.2.11","PublicIPv6":null}' | Out-Null
        Etcdctl put --lease=$id /coreos.com/network/subnets/10.0.0.0-24 '{"PublicIP":"192.0.2.77","PublicIPv6":null}' | Out-Null
        try {
            $r = Invoke-Runbook LeaseHygiene ($Etcd + @{ ExpectedReservation = @('10.0.240.0/24') })
        }
        finally {
            Etcdctl lease revoke $id | Out-Null
        }
        $r.FailedContainers | Should -Be 0
        $r.FailedTests | Sort-Object | Should -Be (@(
                'Lease hygiene.Lease 10.0.0.0/24 of 192.0.2.77.fits SubnetLen and SubnetMin..SubnetMax'
                'Lease hygiene.Lease 10.0.251.0/24 of 192.0.2.11.is the only lease of its PublicIP'
                "Lease hygiene.Lease $S1 of 192.0.2.11.is the only lease of its PublicIP"
                'Lease hygiene.Reservations.has the expected reservation 10.0.240.0/24'
            ) | Sort-Object)
        ($r.Messages -join "`n") | Should -Match '10\.0\.0\.0/24 is below SubnetMin 10\.0\.1\.0'
        ($r.Messages -join "`n") | Should -Match "192\.0\.2\.11 also holds 10\.0\.251\.0/24"
    }

    It 'accepts the expected reservation once it exists' {
        Etcdctl put /coreos.com/network/subnets/10.0.240.0-24 '{"PublicIP":"192.0.2.40","PublicIPv6":null}' | Out-Null
        try { $r = Invoke-Runbook LeaseHygiene ($Etcd + @{ ExpectedReservation = @('10.0.240.0/24') }) }
        finally { Etcdctl del /coreos.com/network/subnets/10.0.240.0-24 | Out-Null }
        $r.FailedTests | Should -BeNullOrEmpty
        $r.Passed | Should -Be 15 -Because '10, the reservation''s 3 lease tests, listed, expected'
        $r.Skipped | Should -Be 1 -Because 'a reservation has no expiry to test'
    }
}

Describe 'FabricHealth runbook' {
    BeforeAll {
        $script:Nodes = @(
            @{ Name = 'h1'; SubnetFile = $H1.SubnetFile; Exec = @('ip', 'netns', 'exec', $H1.Namespace) }
            @{ Name = 'h2'; SubnetFile = $H2.SubnetFile; Exec = @('ip', 'netns', 'exec', $H2.Namespace) }
        )
    }

    It 'passes for both nodes of a healthy fabric, pinging each peer' {
        $r = Invoke-Runbook FabricHealth ($Etcd + @{ Node = $Nodes })
        $r.FailedTests | Should -BeNullOrEmpty
        $r.FailedContainers | Should -Be 0
        $r.Passed | Should -Be 26 -Because '13 passing checks per node'
        $r.Skipped | Should -Be 2 -Because 'the masquerade check is skipped on each node (no -IpMasq)'
    }

    It 'fails the route and the echo of the peer h1 cannot reach, and h2''s echo to h1 whose replies die there' {
        Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -Command ip, route, add, blackhole, $S2 | Out-Null
        try { $r = Invoke-Runbook FabricHealth ($Etcd + @{ Node = $Nodes }) }
        finally { Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -Command ip, route, del, blackhole, $S2 | Out-Null }
        $r.FailedTests | Should -Be "Fabric health of node h1.PeerRoute $S2", "Fabric health of node h1.PeerReachable $S2", "Fabric health of node h2.PeerReachable $S1"
        $r.Messages[0] | Should -BeLike "*routed by 'blackhole $S2'*"
    }
}

Describe 'DockerPreflight runbook' {
    BeforeAll {
        $script:Pre = $Etcd + @{ SubnetFile = $H1.SubnetFile; DockerOptsFile = $DockerOpts }
    }

    It 'passes on a host whose docker_opts.env and docker0 match subnet.env' {
        $r = Invoke-Runbook DockerPreflight $Pre
        $r.FailedTests | Should -BeNullOrEmpty
        $r.Passed | Should -Be 9
    }

    It 'fails on a stale docker_opts.env and a docker0 on another subnet' {
        $good = Get-Content -Raw $DockerOpts
        Set-Content -NoNewline -Path $DockerOpts -Value ($good -replace '--mtu=1472', '--mtu=1450')
        Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -Command ip, addr, del, $Bip1, dev, docker0 | Out-Null
        Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -Command ip, addr, add, 10.0.250.1/24, dev, docker0 | Out-Null
        try { $r = Invoke-Runbook DockerPreflight $Pre }
        finally {
            Set-Content -NoNewline -Path $DockerOpts -Value $good
            Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -Command ip, addr, del, 10.0.250.1/24, dev, docker0 | Out-Null
            Invoke-FlannelTestbedCommand -Testbed $tb -Namespace h1 -Command ip, addr, add, $Bip1, dev, docker0 | Out-Null
        }
        $r.FailedTests | Should -Be 'Docker restart pre-flight.docker_opts.env holds what subnet.env gives now', 'Docker restart pre-flight.the bridge carries FLANNEL_SUBNET'
        $r.Messages[1] | Should -BeLike '*docker0 has 10.0.250.1/24*'
    }
}
