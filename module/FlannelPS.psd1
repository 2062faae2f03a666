@{
    RootModule           = 'FlannelPS.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5f0c7d1e-6a0b-4c39-9a43-3b7f2f6f1c2a'
    Author               = 'FlannelPS contributors'
    CompanyName          = 'FlannelPS'
    Copyright            = '(c) FlannelPS contributors. Apache-2.0.'
    Description          = 'flannel for Docker hosts as a PowerShell module: etcd-backed subnet leases, the udp, vxlan and host-gw backends, and the Docker configuration steps; a FlannelPS node joins a cluster of flanneld nodes.'
    # The assemblies target .NET 10, which pwsh 7.6 is the first to run on: an older pwsh must fail this check, not the load.
    PowerShellVersion    = '7.6'
    CompatiblePSEditions = @('Core')
    # The loader must come first: it routes FlannelPS.Core into its own AssemblyLoadContext.
    NestedModules        = @('FlannelPS.Loader.dll')
    FormatsToProcess     = @('FlannelPS.format.ps1xml')
    # Listed, not '*': PowerShell galleries index these names (Find-PSResource -CommandName), and a
    # Pester test keeps the list equal to the cmdlets the assembly defines.
    CmdletsToExport      = @(
        'Export-FlannelDockerOptions'
        'Get-FlannelNetworkConfig'
        'Get-FlannelNode'
        'Get-FlannelSubnetLease'
        'Install-FlannelDockerDropIn'
        'Install-FlannelService'
        'New-FlannelSubnetLease'
        'Remove-FlannelSubnetLease'
        'Set-FlannelDockerBridge'
        'Set-FlannelNetworkConfig'
        'Start-FlannelNode'
        'Test-FlannelNode'
        'Uninstall-FlannelDockerDropIn'
        'Uninstall-FlannelService'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('flannel', 'overlay', 'network', 'etcd', 'docker', 'Linux', 'PSEdition_Core')
            LicenseUri   = 'https://www.apache.org/licenses/LICENSE-2.0'
            ReleaseNotes = '0.1.0: first release. flannel as cmdlets and a flanneld drop-in (a native executable): etcd v3 subnet leases and reservations; the vxlan, host-gw, udp (with TUN and UDP offloads) and alloc backends; subnet.env and the Docker steps (docker_opts.env, bridge, drop-in); a systemd service; interoperates with flanneld v0.20 in mixed clusters.'
        }
    }
}
