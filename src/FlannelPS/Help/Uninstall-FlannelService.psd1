@{
    Synopsis    = 'Removes the flanneld service that Install-FlannelService installed.'
    Description = @'
Where systemd runs, stops and disables the service (systemctl disable --now), then removes the unit file and the
environment file Install-FlannelService wrote, and reloads systemd. Only files that carry FlannelPS's marker line are
removed unless -Force is given; absent files are skipped, so running it twice changes nothing. The node's lease stays
in etcd, as when flanneld stops.
'@
    Examples    = @(
        @{ Title = 'Remove the service'; Code = 'Uninstall-FlannelService'; Remarks = 'Stops flanneld.service and deletes /etc/systemd/system/flanneld.service and /etc/sysconfig/flanneld.' }
        @{ Title = 'Files in other places'; Code = 'Uninstall-FlannelService -UnitPath ./flanneld.service -EnvironmentFilePath ./flanneld.env -PassThru'; Remarks = 'Returns what was removed.' }
    )
    Links       = @('Install-FlannelService')
}
