# The module as users get it: help for every cmdlet, dependency isolation, the manifest.
BeforeDiscovery {
    Import-Module $env:FLANNELPS_MODULE -Force
    $script:cmdlets = @(Get-Command -Module FlannelPS -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    Import-Module $env:FLANNELPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
    $script:common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
}

Describe 'Get-Help <Name>' -ForEach $cmdlets {
    BeforeAll { $script:help = Get-Help $Name -Full }

    It 'has a synopsis and a description' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "$Name *"   # not the auto-generated syntax line
        ($help.Description.Text -join ' ') | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example with code and remarks' {
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
        foreach ($e in $help.Examples.Example) {
            $e.Code | Should -Not -BeNullOrEmpty
            ($e.Remarks.Text -join '') | Should -Not -BeNullOrEmpty
        }
    }

    It 'describes every parameter' {
        $params = (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common }
        foreach ($p in $params) {
            $ph = $help.Parameters.Parameter | Where-Object Name -eq $p
            ($ph.Description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$p of $Name needs a description"
        }
    }
}

Describe 'about_FlannelPS' {
    It 'is found by Get-Help' {
        (Get-Help about_FlannelPS | Out-String) | Should -BeLike '*FLANNEL_SUBNET*'
    }
}

Describe 'Dependency isolation' {
    It 'talks to etcd even when another module loaded an older Google.Protobuf first' {
        $etcd = Get-TestEtcdEndpoint
        $prefix = New-TestPrefix 'alc'
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.4.0.0/16"}' | Out-Null
        $old = Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages/google.protobuf/3.21.9/lib/net5.0/Google.Protobuf.dll'
        Test-Path $old | Should -BeTrue -Because 'tests/tools/PesterDownload.csproj restores it'
        $script = @"
`$null = [Reflection.Assembly]::LoadFrom('$old')
Import-Module '$env:FLANNELPS_MODULE'
(Get-FlannelNetworkConfig -EtcdEndpoint $etcd -EtcdPrefix $prefix).Network
`$loaded = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'Google.Protobuf' } | ForEach-Object { `$_.GetName().Version.ToString() }
(`$loaded | Sort-Object) -join ','
"@
        $pwsh = Get-FlannelTestbedPwshCommand
        $out = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -EncodedCommand ([Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))) 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out | Out-String)
        $out[0] | Should -Be '10.4.0.0/16'
        $out[1] | Should -Be '3.21.9.0,3.36.2.0' -Because 'both copies are loaded side by side'
    }
}

Describe 'Module manifest' {
    It 'carries the version from Directory.Build.props' {
        $props = [xml](Get-Content (Join-Path $PSScriptRoot '../../Directory.Build.props') -Raw)
        (Get-Module FlannelPS).Version.ToString() | Should -Be $props.Project.PropertyGroup.Version
    }

    It 'asks for the pwsh the assemblies run on, lists its cmdlets, and carries gallery metadata that tells the truth' {
        $m = Import-PowerShellDataFile $env:FLANNELPS_MODULE
        # The assemblies target .NET 10: pwsh 7.6 is the first to run on it.
        $framework = [Reflection.Assembly]::LoadFrom((Join-Path (Split-Path $env:FLANNELPS_MODULE) 'FlannelPS.dll')).GetCustomAttributes([Runtime.Versioning.TargetFrameworkAttribute], $false).FrameworkName
        $framework | Should -Be '.NETCoreApp,Version=v10.0'
        [version] $m.PowerShellVersion | Should -Be ([version] '7.6')
        # Explicit, and exactly what the assembly defines.
        $m.CmdletsToExport | Should -Not -Contain '*'
        @($m.CmdletsToExport | Sort-Object) | Should -Be @((Get-Command -Module FlannelPS -CommandType Cmdlet).Name | Sort-Object)
        $m.PrivateData.PSData.Tags | Should -Contain 'PSEdition_Core'
        $m.PrivateData.PSData.Tags | Should -Contain 'Linux'
        $m.PrivateData.PSData.ReleaseNotes | Should -Not -BeNullOrEmpty
        $m.PrivateData.PSData.ProjectUri | Should -Not -Match 'example\.(invalid|com|org)'
        Test-Path (Join-Path (Split-Path $env:FLANNELPS_MODULE) 'LICENSE') | Should -BeTrue
    }
}
