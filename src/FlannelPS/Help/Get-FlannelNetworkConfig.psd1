@{
    Synopsis    = 'Reads the flannel network config from etcd, with the defaults flannel applies.'
    Description = @'
Reads <prefix>/config exactly as flanneld does: keys match case-insensitively (the classic "NetWork" works),
the last duplicate key wins, unknown keys are ignored and host bits of Network are masked. The object shows
the effective SubnetLen, SubnetMin, SubnetMax and backend type (udp when Backend is absent), how many subnets
the range holds, and the raw JSON.

When the key is absent the error is flannel's: "flannel config not found in etcd store. Did you create your
config using etcdv3 API?" (error id FlannelNetworkConfigNotFound).
'@
    Examples    = @(
        @{ Title = 'Show the config'; Code = 'Get-FlannelNetworkConfig'; Remarks = 'Reads /coreos.com/network/config from http://127.0.0.1:2379 (or FLANNELD_ETCD_ENDPOINTS).' }
        @{ Title = 'A packaged prefix'; Code = '(Get-FlannelNetworkConfig -EtcdPrefix /atomic.io/network).Json'; Remarks = 'Reads the config where Fedora/CentOS packages put it and shows the stored JSON.' }
    )
    Links       = @('Set-FlannelNetworkConfig')
}
