@{
    Synopsis    = 'Lists the subnet leases and reservations in etcd.'
    Description = @'
Reads every key under <prefix>/subnets and returns one object per lease: the Subnet, the node's PublicIP,
the BackendType and BackendData it advertised, when the lease expires, and whether it is a reservation (a key
with no etcd lease, which never expires). Keys or values that do not parse are skipped with a warning, as
flanneld skips them. Subnet and PublicIP sort as addresses and compare equal to their text.
'@
    Examples    = @(
        @{ Title = 'All leases'; Code = 'Get-FlannelSubnetLease'; Remarks = 'One row per host subnet.' }
        @{ Title = 'Filter'; Code = 'Get-FlannelSubnetLease -Subnet 10.0.7* ; Get-FlannelSubnetLease -PublicIP 192.0.2.10'; Remarks = 'Subnets take wildcards; -PublicIP finds the lease of one node.' }
        @{ Title = 'By address'; Code = 'Get-FlannelSubnetLease | Sort-Object PublicIP'; Remarks = '192.0.2.9 comes before 192.0.2.10: PublicIP and Subnet sort as addresses, not as text.' }
        @{ Title = 'Leases that expire within the hour'; Code = 'Get-FlannelSubnetLease | Where-Object { -not $_.IsReservation -and $_.Expiration -lt (Get-Date).AddHours(1) }'; Remarks = 'Dead nodes keep their subnet until the 24 h lease runs out.' }
    )
    Links       = @('New-FlannelSubnetLease', 'Remove-FlannelSubnetLease')
}
