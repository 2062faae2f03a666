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

Describe 'Get-Help <Name> says what the cmdlet''s own metadata says' -ForEach $cmdlets {
    BeforeAll {
        $script:cmd = Get-Command $Name
        $script:help = Get-Help $Name -Full
    }

    It 'gives Required, Position, pipeline input and aliases of every parameter as the parameter attributes do' {
        foreach ($p in $cmd.Parameters.Values | Where-Object { $_.Name -notin [System.Management.Automation.Cmdlet]::CommonParameters }) {
            $attr = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
            $h = Get-Help $Name -Parameter $p.Name
            $required = $attr.Count -gt 0 -and -not ($attr | Where-Object { -not $_.Mandatory })
            "$($h.required)" | Should -Be "$required".ToLower() -Because "-$($p.Name) is mandatory in $(@($attr | Where-Object Mandatory).Count) of $($attr.Count) sets"
            $pos = ($attr | Where-Object { $_.Position -ge 0 } | Select-Object -First 1).Position
            "$($h.position)" | Should -Be $(if ($null -ne $pos) { "$pos" } else { 'named' }) -Because "-$($p.Name) position"
            $kinds = @(if ($attr | Where-Object ValueFromPipeline) { 'ByValue' }; if ($attr | Where-Object ValueFromPipelineByPropertyName) { 'ByPropertyName' })
            "$($h.pipelineInput)" | Should -Be $(if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }) -Because "-$($p.Name) pipeline input"
            "$($h.aliases)" | Should -Be $(if ($p.Aliases.Count) { $p.Aliases -join ', ' } else { 'none' }) -Because "-$($p.Name) aliases"
        }
    }

    It 'shows -WhatIf and -Confirm in SYNTAX when it supports ShouldProcess' {
        $names = @($help.syntax.syntaxItem | ForEach-Object { $_.parameter.name })
        $supports = [bool]($cmd.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $true).SupportsShouldProcess)
        ($names -contains 'WhatIf') | Should -Be $supports
        ($names -contains 'Confirm') | Should -Be $supports
    }

    It 'has INPUTS and OUTPUTS' {
        @($help.inputTypes.inputType).Count | Should -BeGreaterThan 0
        $piped = @($cmd.Parameters.Values | Where-Object { $_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and ($_.ValueFromPipeline -or $_.ValueFromPipelineByPropertyName) } })
        if ($piped) { "$($help.inputTypes.inputType.type.name)" | Should -Not -Match '^None$' }
        @($help.returnValues.returnValue).Count | Should -Be @($cmd.OutputType | Sort-Object Name -Unique).Count
    }
}

Describe 'Get-Help shows defaults read from the cmdlets' {
    It 'shows <Parameter> of <Cmdlet> defaulting to <Default>' -TestCases @(
        @{ Cmdlet = 'Start-FlannelNode'; Parameter = 'SubnetFile'; Default = '/run/flannel/subnet.env' }
        @{ Cmdlet = 'Start-FlannelNode'; Parameter = 'EtcdTimeoutSec'; Default = '5' }
        @{ Cmdlet = 'Start-FlannelNode'; Parameter = 'SubnetLeaseRenewMargin'; Default = '60' }
        @{ Cmdlet = 'Install-FlannelService'; Parameter = 'HealthzIP'; Default = '0.0.0.0' }
        @{ Cmdlet = 'Start-FlannelNode'; Parameter = 'HealthzIP'; Default = '0.0.0.0' }
    ) {
        "$((Get-Help $Cmdlet -Parameter $Parameter).defaultValue)" | Should -Be $Default
    }
}

Describe 'about_FlannelPS' {
    It 'uses only real commands and parameters in its command lines' {
        $text = Get-Content (Join-Path (Split-Path $env:FLANNELPS_MODULE) 'en-US/about_FlannelPS.help.txt') -Raw
        $lines = @($text -split "`n" | Where-Object { $_ -match '^\s{8,}[A-Z][a-z]+-Flannel\w+' })
        $lines.Count | Should -BeGreaterThan 3  # the indented command lines of the setup steps
        foreach ($line in $lines) {
            $code = $line.Trim() -replace '^\d+\.\s+', ''
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($code, [ref] $null, [ref] $null)
            foreach ($c in $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)) {
                $name = $c.GetCommandName()
                if ($name -notlike '*-Flannel*') { continue }
                $command = Get-Command $name -Module FlannelPS -ErrorAction SilentlyContinue
                $command | Should -Not -BeNullOrEmpty -Because "'$code' names $name"
                foreach ($e in $c.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] }) {
                    $command.Parameters.Keys | Should -Contain $e.ParameterName -Because "'$code' passes -$($e.ParameterName)"
                }
                @($c.FindAll({ $args[0] -is [System.Management.Automation.Language.StringConstantExpressionAst] -and $args[0].Value -like '*-Flannel*' }, $true)).Count |
                    Should -Be 1 -Because "'$code' is one command, not a list of names"
            }
        }
    }

    It 'describes every backend Set-FlannelNetworkConfig -BackendType takes, and none as not run' {
        $text = Get-Content (Join-Path (Split-Path $env:FLANNELPS_MODULE) 'en-US/about_FlannelPS.help.txt') -Raw
        $section = [regex]::Match($text, '(?ms)^BACKENDS\r?\n(.*?)^\S').Groups[1].Value
        $types = (Get-Command Set-FlannelNetworkConfig).Parameters['BackendType'].Attributes |
            Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | ForEach-Object ValidValues
        $types | Should -Not -BeNullOrEmpty
        foreach ($t in $types) {
            $section | Should -Match "(?m)^    $([regex]::Escape($t))\s" -Because "BACKENDS needs an entry for $t"
        }
        $text | Should -Not -Match 'not run|does not run|not supported yet' -Because 'a FlannelPS node runs every backend it accepts'
    }

    It 'keeps every line under 80 columns' {
        $lines = (Get-Content (Join-Path (Split-Path $env:FLANNELPS_MODULE) 'en-US/about_FlannelPS.help.txt') -Raw) -split '\r?\n'
        foreach ($l in $lines) { $l.Length | Should -BeLessThan 80 -Because $l }
    }

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
