@{
    Synopsis    = 'Removes what Install-FlannelDockerDropIn added to Docker''s configuration.'
    Description = @'
Deletes the flannel drop-in for docker.service, or with -Method DaemonJson removes only the keys
Install-FlannelDockerDropIn set in daemon.json (other keys stay). With -Restart it reloads systemd and restarts
Docker where systemd runs. Running it when nothing is installed changes nothing.
'@
    Examples    = @(
        @{ Title = 'Undo the drop-in'; Code = 'Uninstall-FlannelDockerDropIn -Restart'; Remarks = 'Docker goes back to its packaged settings.' }
        @{ Title = 'Undo the daemon.json merge'; Code = 'Uninstall-FlannelDockerDropIn -Method DaemonJson'; Remarks = 'Removes bip and mtu again.' }
    )
    Links       = @('Install-FlannelDockerDropIn')
}
