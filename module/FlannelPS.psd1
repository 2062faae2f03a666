@{
    RootModule           = 'FlannelPS.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5f0c7d1e-6a0b-4c39-9a43-3b7f2f6f1c2a'
    Author               = 'FlannelPS contributors'
    CompanyName          = 'FlannelPS'
    Copyright            = '(c) FlannelPS contributors. Apache-2.0.'
    Description          = 'flannel for Docker hosts as a PowerShell module: etcd-backed subnet leases, the UDP overlay datapath and the Docker configuration steps, interoperable with flanneld.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    # The loader must come first: it routes FlannelPS.Core into its own AssemblyLoadContext.
    NestedModules        = @('FlannelPS.Loader.dll')
    FormatsToProcess     = @('FlannelPS.format.ps1xml')
    CmdletsToExport      = '*'
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('flannel', 'overlay', 'network', 'etcd', 'docker', 'Linux')
            LicenseUri   = 'https://www.apache.org/licenses/LICENSE-2.0'
            ProjectUri   = 'https://example.invalid/flannelps'
        }
    }
}
