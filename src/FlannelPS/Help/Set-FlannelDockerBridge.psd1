@{
    Synopsis    = 'Gives docker0 the node''s FLANNEL_SUBNET address and FLANNEL_MTU.'
    Description = @'
The seed's "ifconfig docker0 ${FLANNEL_SUBNET}" step: reads subnet.env and sets the bridge's IPv4 address to
FLANNEL_SUBNET (e.g. 10.0.72.1/24) and its MTU to FLANNEL_MTU, replacing any other IPv4 address, so the bridge
matches the --bip Docker is started with. The bridge is created when absent and brought up. Running it again
changes nothing.
'@
    Examples    = @(
        @{ Title = 'Before restarting Docker'; Code = 'Set-FlannelDockerBridge'; Remarks = 'docker0 gets the address and MTU from /run/flannel/subnet.env.' }
        @{ Title = 'Another bridge, see the change first'; Code = 'Set-FlannelDockerBridge -Bridge cbr0 -SubnetFile /run/flannel/subnet.env -WhatIf'; Remarks = 'Shows what would change without touching the link.' }
    )
    Links       = @('Export-FlannelDockerOptions', 'Install-FlannelDockerDropIn')
}
