@{
    Synopsis    = 'Runs a flannel node on this host: subnet lease, subnet.env, the overlay datapath.'
    Description = @'
Does what flanneld does: reads the network config (retrying every second with flannel's message until it is
valid), selects the external interface, acquires this host's subnet lease, sets up the backend (udp: the TUN
device flannel0 with MTU = interface MTU - 28, its /32 address and the route to the whole network, UDP port
8285), installs the iptables rules, writes subnet.env, then keeps the lease renewed and the peer table current
until stopped. A lease that is deleted under it is taken back in place.

By default it returns a job (type FlannelNodeJob) that runs the node in this PowerShell process for the life
of the session: Get-Job lists it, Receive-Job returns its events, Get-FlannelNode its live status, and
Stop-Job or Remove-Job stops it (the TUN device and its routes go away; the lease stays in etcd, as with
flanneld). With -Wait it runs in the foreground until Ctrl+C or SIGTERM, which is what services use.

The udp backend needs root and /dev/net/tun; the alloc backend only holds a lease.
'@
    Examples    = @(
        @{ Title = 'Join the overlay'; Code = 'Start-FlannelNode -EtcdEndpoint http://192.0.2.2:2379 -IpMasq'; Remarks = 'Starts the node as a job and writes /run/flannel/subnet.env once it is ready.' }
        @{ Title = 'A host behind NAT'; Code = 'Start-FlannelNode -Interface eth1 -PublicIP 198.51.100.7'; Remarks = 'Uses eth1 for traffic and tells other nodes to send to 198.51.100.7.' }
        @{ Title = 'In a service'; Code = 'pwsh -NoProfile -Command "Import-Module FlannelPS; Start-FlannelNode -Wait -IpMasq"'; Remarks = 'Runs in the foreground and stops cleanly on SIGTERM.' }
        @{ Title = 'Watch it work'; Code = '$job = Start-FlannelNode; Get-FlannelNode; Receive-Job $job; Stop-Job $job'; Remarks = 'Shows the lease, the peers and their counters, then the events, then stops.' }
    )
    Links       = @('Get-FlannelNode', 'Export-FlannelDockerOptions', 'Set-FlannelNetworkConfig')
}
