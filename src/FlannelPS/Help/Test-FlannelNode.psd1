@{
    Synopsis    = 'Checks the flannel node of this host and reports each check as Pass, Warning, Fail or Skip.'
    Description = @'
Run on a host (as root) whose flannel node is running. Test-FlannelNode reads the node's subnet.env, the network
config and every lease from etcd, the kernel's links and routes, and iptables, and emits one object per check:
Name, Status (Pass, Warning, Fail, Skip), Message (what was found, with the offending value) and Target (the file,
etcd key, device, peer subnet or iptables chain). The checks, in order:

SubnetFile (subnet.env exists with all four values), NetworkConfig (the etcd config exists and is valid),
SubnetFileNetwork (FLANNEL_NETWORK equals the config's Network), Lease (FLANNEL_SUBNET is leased in etcd, to this
host's address or -PublicIP), LeaseTtl (more time left than the renew margin, or a reservation), LeaseRange (the
lease fits SubnetLen and SubnetMin..SubnetMax), Device (flannel0 exists and is up), DeviceMtu (its MTU equals
FLANNEL_MTU and the underlay MTU minus the encapsulation), DeviceAddress (the lease address /32), NetworkRoute
(<Network> dev flannel0), PeerRoute (one per other lease: the kernel routes that subnet into the overlay, and no
more specific route carves part of it away), IptablesForward (the FLANNEL-FWD rules), IptablesMasquerade (the
FLANNEL-POSTRTG rules, when FLANNEL_IPMASQ=true), PeerReachable (with -Ping: each peer's overlay address answers
ICMP echo, bounded by -PingCount and -PingTimeoutSec).

A check whose input is missing (no subnet.env, etcd unreachable) is Skip with the reason, so one broken thing shows
as one Fail. With -Quiet the command returns only $true when no check failed, or $false.
'@
    Examples    = @(
        @{ Title = 'Check this host'; Code = 'Test-FlannelNode -EtcdEndpoint http://10.1.0.5:2379'; Remarks = 'One row per check.' }
        @{ Title = 'Only what is wrong'; Code = 'Test-FlannelNode -Ping | Where-Object Status -ne Pass | Format-List'; Remarks = 'Failures and warnings with their full message.' }
        @{ Title = 'In a script or health probe'; Code = 'if (-not (Test-FlannelNode -Quiet)) { exit 1 }'; Remarks = 'A single boolean: $false when any check failed.' }
        @{ Title = 'As a Pester runbook'; Code = "Invoke-Pester -Container (New-PesterContainer -Path examples/runbooks/FabricHealth.Tests.ps1 -Data @{ EtcdEndpoint = 'http://10.1.0.5:2379' })"; Remarks = 'examples/runbooks turns these checks into tests for one host or a whole cluster.' }
    )
    Links       = @('Start-FlannelNode', 'Get-FlannelNode', 'Get-FlannelSubnetLease')
}
