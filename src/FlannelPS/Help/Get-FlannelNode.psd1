@{
    Synopsis    = 'Shows the live status of the flannel nodes this session runs.'
    Description = @'
Returns one object per node job started with Start-FlannelNode: its state, network and subnet, public IP
and interface, backend and MTU, when its lease expires, and every other node it knows (Peers) with packet and
byte counters per peer. Statistics has the peers' counters and, in Statistics.Detail, the backend's own.
For udp: the datapath totals, the drops by reason (no route, too short, too long, TTL, not IPv4, bad header
length, length mismatch, send and TUN write errors, bad offload), the offloads in use (Offloads: the TUN's
csum/tso4/uso4 and UDP GSO/GRO, or why not), how many super-packets were cut and coalesced, and how the
datapath is split: CpuLanes (threads pinned per CPU beside the main lane),
CpuLanesActive (whether traffic is steered to them now), LanePackets (per lane, main lane first) and
SteeringSwitches; for vxlan and host-gw the peers programmed in the kernel, the changes it refused, the
peers repaired, and how often flannel.N was recreated.
'@
    Examples    = @(
        @{ Title = 'Status'; Code = 'Get-FlannelNode'; Remarks = 'A table of the nodes of this session.' }
        @{ Title = 'Peers and counters'; Code = '(Get-FlannelNode).Peers | Format-Table'; Remarks = 'One row per other host.' }
        @{ Title = 'Datapath lanes'; Code = '(Get-FlannelNode).Statistics.Detail | Select-Object CpuLanes, CpuLanesActive, LanePackets, SteeringSwitches'; Remarks = 'Which forwarding threads of the udp datapath carried the traffic.' }
        @{ Title = 'Kernel backends'; Code = '(Get-FlannelNode).Statistics.Detail'; Remarks = 'On vxlan or host-gw: ProgrammedPeers, ProgramFailures, RepairedPeers, DeviceRecreations.' }
        @{ Title = 'From a job'; Code = 'Get-Job -Name FlannelNode | Get-FlannelNode'; Remarks = 'Accepts node jobs from the pipeline.' }
    )
    Links       = @('Start-FlannelNode')
}
