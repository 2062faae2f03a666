@{
    Synopsis    = 'Points docker.service at the flannel options: a systemd drop-in, or daemon.json.'
    Description = @'
Writes /etc/systemd/system/docker.service.d/flannel.conf with EnvironmentFile=/run/docker_opts.env, an empty
ExecStart= and ExecStart=/usr/bin/dockerd $DOCKER_OPTS followed by the distribution's other dockerd flags (read
from the installed docker.service), so Docker starts with flannel's --bip, --mtu and --ip-masq. With -Restart it
runs systemctl daemon-reload and restarts Docker where systemd runs, and says so clearly where it does not.

-Method DaemonJson instead merges bip and mtu (and ip-masq) into /etc/docker/daemon.json, keeping every other
key. -WhatIf shows the file it would write. Uninstall-FlannelDockerDropIn undoes it.

-EnvironmentFile, -DockerdPath, -DockerUnitPath and -Key shape the drop-in; -SubnetFile and -NoIpMasq shape
daemon.json. Passing one with the other -Method is an error (FlannelDockerMethodMismatch) and nothing is written.
'@
    Examples    = @(
        @{ Title = 'The classic setup'; Code = 'Export-FlannelDockerOptions -Combined; Set-FlannelDockerBridge; Install-FlannelDockerDropIn -Restart'; Remarks = 'Docker restarts on the flannel subnet.' }
        @{ Title = 'daemon.json instead of a drop-in'; Code = 'Install-FlannelDockerDropIn -Method DaemonJson -WhatIf'; Remarks = 'Shows the merged daemon.json without writing it.' }
    )
    Links       = @('Uninstall-FlannelDockerDropIn', 'Export-FlannelDockerOptions')
}
