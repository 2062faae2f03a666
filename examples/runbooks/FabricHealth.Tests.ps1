# Runbook: the overlay fabric, node by node. Runs Test-FlannelNode on each host (this host by
# default) and turns every check into a test: subnet.env, lease and TTL, flannel0, MTU, the
# route to every peer, iptables and, with Ping, an ICMP echo to every peer's overlay address.
#   This host:  Invoke-Pester -Container (New-PesterContainer -Path FabricHealth.Tests.ps1 -Data @{ EtcdEndpoint = 'http://10.1.0.5:2379' })
#   Cluster:    -Data @{ EtcdEndpoint = '...'; Node = @(@{ Name = 'web1'; Exec = 'ssh', 'root@web1'; Pwsh = 'pwsh' }, @{ Name = 'web2'; Exec = 'ssh', 'root@web2'; Pwsh = 'pwsh' }) }
# A node entry: Name, optional SubnetFile, optional Exec (a command prefix that runs a program on
# that host: ssh, `ip netns exec NS`, ...) and Pwsh (how to start pwsh there; default: like this one).
param(
    [string[]] $EtcdEndpoint,
    [string] $EtcdPrefix,
    # subnet.env of this host (and the default for nodes that do not name theirs).
    [string] $SubnetFile = '/run/flannel/subnet.env',
    # Nodes to check; default: this host only.
    [object[]] $Node,
    # Also ping each peer's overlay address from each node.
    [bool] $Ping = $true,
    [string] $Module = 'FlannelPS'
)

BeforeDiscovery {
    function Get-NodeChecks($entry) {
        $file = if ($entry.SubnetFile) { $entry.SubnetFile } else { $SubnetFile }
        $params = @{ SubnetFile = $file }
        if ($EtcdEndpoint) { $params.EtcdEndpoint = $EtcdEndpoint }
        if ($EtcdPrefix) { $params.EtcdPrefix = $EtcdPrefix }
        if ($Ping) { $params.Ping = $true }
        if (-not $entry.Exec) {
            Import-Module $Module
            return Test-FlannelNode @params | Select-Object Name, Status, Message, Target
        }
        # Elsewhere: a pwsh on that host prints the checks as one JSON line.
        $json = ($params | ConvertTo-Json -Compress) -replace "'", "''"
        $script = "`$ErrorActionPreference = 'Stop'; Import-Module '$Module'; `$p = '$json' | ConvertFrom-Json -AsHashtable; " +
            "'@@JSON@@' + (Test-FlannelNode @p | Select-Object Name, Status, Message, Target | ConvertTo-Json -AsArray -Compress)"
        $pwsh = if ($entry.Pwsh) { @($entry.Pwsh) }
        elseif ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { @([Environment]::ProcessPath, (Join-Path $PSHOME 'pwsh.dll')) }
        else { @([Environment]::ProcessPath) }
        $exec = @($entry.Exec)
        $argv = @($exec | Select-Object -Skip 1) + $pwsh + @('-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script)))
        $out = & $exec[0] @argv 2>&1
        $line = @($out | Where-Object { "$_".StartsWith('@@JSON@@') })[-1]
        if (-not $line) { throw "no result from $($entry.Name): $($out -join ' ')" }
        "$line".Substring(8) | ConvertFrom-Json
    }

    $entries = if ($Node) { $Node } else { @(@{ Name = [Environment]::MachineName }) }
    $nodes = foreach ($entry in $entries) {
        $checks = try { @(Get-NodeChecks $entry) }
        catch { @([pscustomobject]@{ Name = 'TestFlannelNode'; Status = 'Fail'; Message = $_.Exception.Message; Target = $entry.Name }) }
        @{ NodeName = $entry.Name; Checks = @($checks | ForEach-Object { @{ Check = $_.Name; Status = $_.Status; Message = $_.Message; Target = "$($_.Target)" } }) }
    }
}

Describe 'Fabric health of node <NodeName>' -ForEach $nodes {
    It '<Check> <Target>' -ForEach $Checks {
        if ($Status -eq 'Skip') { Set-ItResult -Skipped -Because $Message }
        $Status | Should -BeIn 'Pass', 'Warning' -Because $Message
    }
}
