# Set-FlannelDockerBridge inside a namespace this test creates (never the root namespace).
BeforeAll {
    $modulePath = if ($env:FLANNELPS_MODULE) { $env:FLANNELPS_MODULE } else { Join-Path $PSScriptRoot '../../out/FlannelPS/FlannelPS.psd1' }
    $script:modulePath = (Resolve-Path $modulePath).Path
    $runId = if ($env:FLANNELPS_TEST_RUNID) { $env:FLANNELPS_TEST_RUNID } else { $PID }
    $script:ns = "fpdk-$runId-brp"
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "fpdk-br-$PID"
    New-Item -ItemType Directory $dir -Force | Out-Null
    [IO.File]::WriteAllText("$dir/subnet.env", "FLANNEL_NETWORK=10.0.0.0/16`nFLANNEL_SUBNET=10.0.5.1/24`nFLANNEL_MTU=1472`nFLANNEL_IPMASQ=true`n")
    ip netns add $ns
    if ($LASTEXITCODE) { throw "ip netns add $ns failed" }
    # The cmdlet runs in a second pwsh under `ip netns exec`, as a user would run it on a host;
    # one process runs every step and reports back as JSON (a pwsh start costs over a second).
    $steps = @'
$ErrorActionPreference = 'Stop'
Import-Module $env:_FPDK_MODULE
$o = [ordered]@{}
$o.whatIf = Set-FlannelDockerBridge -SubnetFile $env:_FPDK_SUBNET -WhatIf | Out-String
$o.whatIfLinks = (ip -o link show | Out-String)
$o.first = Set-FlannelDockerBridge -SubnetFile $env:_FPDK_SUBNET -PassThru
$o.second = Set-FlannelDockerBridge -SubnetFile $env:_FPDK_SUBNET -PassThru
ip addr add 172.17.0.1/16 dev docker0
ip link set dev docker0 mtu 1500
$o.repair = Set-FlannelDockerBridge -Bridge docker0 -SubnetFile $env:_FPDK_SUBNET -PassThru
try { Set-FlannelDockerBridge -SubnetFile /nonexistent/subnet.env } catch { $o.missing = $_.FullyQualifiedErrorId + '|' + $_.Exception.Message }
$o | ConvertTo-Json -Depth 4 -Compress
'@
    $env:_FPDK_MODULE = $modulePath; $env:_FPDK_SUBNET = "$dir/subnet.env"
    $out = ip netns exec $ns dotnet pwsh -NoProfile -NonInteractive -Command $steps
    $json = $out | Where-Object { $_ -like '{*' } | Select-Object -Last 1
    # A child that failed must fail the suite, not leave $result empty for -Not -Match to accept.
    if ($LASTEXITCODE -ne 0 -or -not $json) { throw "the steps in $ns failed (exit $LASTEXITCODE):`n$($out -join "`n")" }
    $script:result = $json | ConvertFrom-Json
    $script:whatIfText = $out -join "`n"
    $script:addr = (ip -n $ns -4 -o addr show dev docker0) -join "`n"
    $script:link = (ip -n $ns -o link show dev docker0) -join "`n"
}
AfterAll {
    ip netns del $ns 2>$null
    Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue
}

Describe 'Set-FlannelDockerBridge' {
    It 'changes nothing with -WhatIf and says what it would do' {
        $result.whatIfLinks | Should -Not -Match 'docker0'
        $whatIfText | Should -Match '(?s)What if: .*docker0.*ip link add name docker0 type bridge.*ip addr add 10\.0\.5\.1/24'
    }
    It 'creates docker0 with the FLANNEL_SUBNET address and MTU, up' {
        $result.first.Created | Should -BeTrue
        $result.first.Address | Should -Be '10.0.5.1/24'
        $addr | Should -Match 'inet 10\.0\.5\.1/24'
        $link | Should -Match 'mtu 1472'
        $link | Should -Match '<[^>]*\bUP\b'
    }
    It 'is idempotent' {
        $result.second.Changed | Should -BeFalse
        @($result.second.Changes).Count | Should -Be 0
    }
    It 'replaces an old IPv4 address and restores the MTU' {
        $result.repair.Created | Should -BeFalse
        $result.repair.Changes | Should -Contain 'ip addr del 172.17.0.1/16 dev docker0'
        $result.repair.Changes | Should -Contain 'ip link set dev docker0 mtu 1472'
        $addr | Should -Not -Match '172\.17\.'
        @($addr -split "`n").Count | Should -Be 1
    }
    It 'names a missing subnet file' {
        $result.missing | Should -BeLike 'FlannelSubnetFileNotFound,*|*/nonexistent/subnet.env*'
    }
}
