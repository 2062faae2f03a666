@{
    Synopsis    = 'Deletes subnet leases or reservations from etcd.'
    Description = @'
Deletes the keys of the given subnets under <prefix>/subnets. Accepts subnets by name (wildcards allowed) or
the objects Get-FlannelSubnetLease emits. A running node whose lease is deleted says "Lease has been revoked"
and takes the same subnet back. Use it to free the subnets of hosts that are gone for good.
'@
    Examples    = @(
        @{ Title = 'Free one subnet'; Code = 'Remove-FlannelSubnetLease -Subnet 10.0.72.0/24 -Force'; Remarks = 'Deletes /coreos.com/network/subnets/10.0.72.0-24 without prompting.' }
        @{ Title = 'Free the subnets of a dead host'; Code = 'Get-FlannelSubnetLease -PublicIP 192.0.2.99 | Remove-FlannelSubnetLease -WhatIf'; Remarks = 'Shows which keys would be deleted.' }
    )
    Links       = @('Get-FlannelSubnetLease')
}
