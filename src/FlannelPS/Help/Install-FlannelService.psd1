@{
    Synopsis    = 'Installs flanneld as a systemd service: a unit plus an /etc/sysconfig/flanneld-style environment file.'
    Description = @'
Writes /etc/systemd/system/flanneld.service (Type=notify, NotifyAccess=all, Restart=always, After=network-online.target
etcd.service, Before=docker.service, EnvironmentFile=-/etc/sysconfig/flanneld) and the environment file it loads, in the
style of the flannel rpm: FLANNEL_ETCD_ENDPOINTS, FLANNEL_ETCD_PREFIX and FLANNEL_OPTIONS (every other flanneld flag the
parameters ask for). The unit runs the module's bin/flanneld-start, which also honours the older FLANNEL_ETCD and
FLANNEL_ETCD_KEY names when the newer ones are empty, so an existing /etc/sysconfig/flanneld keeps working.
flanneld-start runs the module's bin/flanneld, a compiled executable: the service needs no pwsh, .NET runtime or
NuGet cache at run time.

Where systemd is the init (/run/systemd/system exists) it then runs systemctl daemon-reload, enable and start (restart
when the files changed); the node tells systemd READY=1 once subnet.env is written. Elsewhere it writes the files and
warns how to start the node by hand. -WhatIf prints each file that would change without writing it, and -Confirm
asks about those files only; a file that already has the wanted content is left alone (-Verbose says so). Running
it again with the same parameters changes nothing. Files it did not write are only replaced with -Force.
Uninstall-FlannelService undoes it.
'@
    Examples    = @(
        @{ Title = 'The seed host as a service'; Code = 'Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 -IpMasq -Interface eth1'; Remarks = 'Writes both files, enables flanneld.service and starts it; Docker is ordered after it.' }
        @{ Title = 'See the files first'; Code = 'Install-FlannelService -EtcdEndpoint http://192.0.2.2:2379 -EtcdPrefix /atomic.io/network -WhatIf'; Remarks = 'Prints the environment file and the unit that would be written; a file already up to date is not shown.' }
        @{ Title = 'Write elsewhere, do not start'; Code = 'Install-FlannelService -UnitPath ./flanneld.service -EnvironmentFilePath ./flanneld.env -NoStart'; Remarks = 'For images built without systemd running, or to review the files.' }
    )
    Links       = @('Uninstall-FlannelService', 'Start-FlannelNode', 'Install-FlannelDockerDropIn')
}
