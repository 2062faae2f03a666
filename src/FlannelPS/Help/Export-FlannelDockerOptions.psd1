@{
    Synopsis    = 'Turns subnet.env into Docker daemon options: mk-docker-opts.sh as a cmdlet.'
    Description = @'
Reads the node's subnet.env and writes the Docker options file that docker.service loads, byte for byte as
flannel's mk-docker-opts.sh writes it: --bip from FLANNEL_SUBNET, --mtu from FLANNEL_MTU and --ip-masq inverted
from FLANNEL_IPMASQ (when flannel masquerades, Docker must not). -Individual writes one DOCKER_OPT_* variable
per option, -Combined one DOCKER_OPTS variable (-Key renames it) whose value starts with the value already in
the environment; with neither, both are written. A missing subnet.env gives empty options, as the script does.
Like the script, which works on its shell variables, it also takes the environment's DOCKER_OPT_* variables as
options (all of them in name order: DOCKER_OPT_DNS=--dns=1.1.1.1 gives " --bip=... --dns=1.1.1.1 --ip-masq=...
--mtu=...") and FLANNEL_SUBNET, FLANNEL_MTU and FLANNEL_IPMASQ from the environment where subnet.env has none.

An invalid FLANNEL_IPMASQ is an error ("Invalid value of FLANNEL_IPMASQ: ...") and leaves the output file
untouched; the file is written atomically. The module also ships the drop-in command mk-docker-opts, which
takes the script's flags (-f -d -i -c -k -m -h).
'@
    Examples    = @(
        @{ Title = 'The seed step'; Code = 'Export-FlannelDockerOptions -Combined'; Remarks = 'Writes DOCKER_OPTS=" --bip=10.0.72.1/24 --ip-masq=false --mtu=1472" to /run/docker_opts.env.' }
        @{ Title = 'Per-host files and the values as an object'; Code = 'Export-FlannelDockerOptions -SubnetFile /run/flannel/hostA.env -Path /run/hostA_docker_opts.env -PassThru'; Remarks = 'Writes the three DOCKER_OPT_* lines and DOCKER_OPTS, and returns them.' }
        @{ Title = 'The shell drop-in'; Code = 'mk-docker-opts -d /run/docker_opts.env -c'; Remarks = 'The same bytes from the command the seed used, found in the module''s bin folder.' }
    )
    Links       = @('Set-FlannelDockerBridge', 'Install-FlannelDockerDropIn', 'Start-FlannelNode')
}
