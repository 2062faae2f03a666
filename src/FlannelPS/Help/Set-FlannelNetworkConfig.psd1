@{
    Synopsis    = 'Writes the flannel network config into etcd (<prefix>/config).'
    Description = @'
Writes the cluster-wide network config that every flannel node reads at start: the overlay Network, the
per-host SubnetLen, the SubnetMin..SubnetMax range and the Backend. Build it from parameters or pass the
whole JSON with -Json.

The config is validated with flannel's own rules before anything is written, and a rejected config is
reported with flannel's exact message (for example "SubnetLen must be less than /31"); the stored config is
then left as it was. Keys are written with the etcd v3 API, as flanneld v0.18+ and FlannelPS read them; a
config written with the v2 "etcdctl set" is invisible to both.

Nodes read the config once when they start: restart them after changing it.
'@
    Examples    = @(
        @{ Title = 'The classic setup'; Code = 'Set-FlannelNetworkConfig -Network 10.0.0.0/16'; Remarks = 'Writes {"Network":"10.0.0.0/16"} to /coreos.com/network/config on http://127.0.0.1:2379. Hosts get /24s from 10.0.1.0 to 10.0.255.0 and use the udp backend.' }
        @{ Title = 'Smaller subnets, a range and a port'; Code = 'Set-FlannelNetworkConfig -Network 10.0.0.0/16 -SubnetLen 26 -SubnetMin 10.0.8.0 -SubnetMax 10.0.15.192 -BackendType udp -BackendPort 8285 -EtcdEndpoint http://etcd1:2379,http://etcd2:2379 -PassThru'; Remarks = 'Writes the config to a two-member etcd and returns the effective config.' }
        @{ Title = 'Kernel VXLAN, as most flannel clusters run'; Code = 'Set-FlannelNetworkConfig -Network 10.0.0.0/16 -BackendType vxlan -VNI 1 -BackendPort 8472 -DirectRouting'; Remarks = 'Writes {"Network":"10.0.0.0/16","Backend":{"Type":"vxlan","Port":8472,"VNI":1,"DirectRouting":true}}. Nodes create flannel.1 (MTU = underlay MTU - 50) and route peers on the same L2 segment without encapsulation. Open UDP 8472 between the hosts.' }
        @{ Title = 'host-gw on one L2 segment'; Code = 'Set-FlannelNetworkConfig -Network 10.0.0.0/16 -BackendType host-gw'; Remarks = 'No encapsulation: every host routes the other hosts'' subnets via their addresses. All hosts must share one L2 segment and no NAT.' }
        @{ Title = 'From JSON, checked first'; Code = '''{"NetWork":"10.0.0.0/16","Backend":{"Type":"udp"}}'' | Set-FlannelNetworkConfig -WhatIf'; Remarks = 'Validates the JSON and shows what would be written, without writing it.' }
    )
    Links       = @('Get-FlannelNetworkConfig', 'Start-FlannelNode')
}
