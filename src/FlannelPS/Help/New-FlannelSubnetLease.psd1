@{
    Synopsis    = 'Acquires a subnet lease for a public IP, or writes a reservation.'
    Description = @'
Runs flannel's acquire algorithm once, as a node does at start: a lease already held by -PublicIP is reused
(and renewed); otherwise -PreferredSubnet is used when it is free and fits the config; otherwise one of the
first 100 free subnets is picked at random. The lease is created with a 24 h etcd lease only if no one holds
the key, and a lost race is retried up to 10 times. "out of subnets" means none is free.

With -Reservation, writes -Subnet for -PublicIP with no etcd lease: a reservation never expires, is never
re-leased to another node, and the node with that PublicIP uses it.
'@
    Examples    = @(
        @{ Title = 'Lease a subnet for a host'; Code = 'New-FlannelSubnetLease -PublicIP 192.0.2.10'; Remarks = 'Returns the lease, e.g. 10.0.72.0/24, stored as {"PublicIP":"192.0.2.10","PublicIPv6":null}.' }
        @{ Title = 'Reserve a subnet'; Code = 'New-FlannelSubnetLease -Reservation -Subnet 10.0.9.0/24 -PublicIP 192.0.2.11'; Remarks = 'The node advertising 192.0.2.11 will always get 10.0.9.0/24.' }
    )
    Links       = @('Get-FlannelSubnetLease', 'Remove-FlannelSubnetLease')
}
