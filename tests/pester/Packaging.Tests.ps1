# The module as a package: tools/pack.sh makes out/FlannelPS.<version>.nupkg, Install-PSResource
# installs it from a local folder repository, and a fresh pwsh imports the installed module by name
# and runs real cmdlets and bin/flanneld. Everything PSResourceGet and pwsh keep per user (the
# repository list, the CurrentUser module folder) lives under a temporary HOME, removed afterwards.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot TestHelpers.psm1) -Force
    Import-Module (Join-Path $PSScriptRoot '../testbed/FlannelTestbed.psm1') -Force
    $script:repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:version = ([xml] (Get-Content (Join-Path $repoRoot 'Directory.Build.props') -Raw)).Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
    $script:pkgHome = Join-Path ([IO.Path]::GetTempPath()) "fpsv-pkg-$PID"
    $script:feed = Join-Path $pkgHome 'feed'
    New-Item -ItemType Directory $feed -Force | Out-Null
    $script:repoName = "fpsv-local-$PID"

    function Invoke-IsolatedPwsh([string] $Script) {
        # A fresh pwsh whose user data (PSResourceGet's repositories, CurrentUser modules) is under $pkgHome.
        $pwsh = Get-FlannelTestbedPwshCommand
        $psi = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
        foreach ($a in @($pwsh | Select-Object -Skip 1) + '-NoProfile', '-NonInteractive', '-Command', $Script) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.Environment['HOME'] = $pkgHome
        $psi.Environment['NO_COLOR'] = '1'
        foreach ($n in 'PSModulePath', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME') { $psi.Environment.Remove($n) | Out-Null }
        $p = [Diagnostics.Process]::Start($psi)
        $err = $p.StandardError.ReadToEndAsync()
        $out = $p.StandardOutput.ReadToEnd()
        if (-not $p.WaitForExit(180000)) { $p.Kill(); throw 'isolated pwsh timed out' }
        [pscustomobject]@{ ExitCode = $p.ExitCode; Out = $out; Err = $err.Result }
    }

    $pack = & bash (Join-Path $repoRoot 'tools/pack.sh') --no-build 2>&1
    if ($LASTEXITCODE -ne 0) { throw "tools/pack.sh failed: $pack" }
    $script:nupkg = Join-Path $repoRoot "out/FlannelPS.$version.nupkg"
    Copy-Item $nupkg $feed
}

AfterAll {
    # The repository was registered under the temporary HOME; unregistering first keeps that tidy
    # even if the folder removal fails.
    Invoke-IsolatedPwsh "Unregister-PSResourceRepository -Name '$repoName' -ErrorAction SilentlyContinue" | Out-Null
    Remove-Item $pkgHome -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'FlannelPS as a package' {
    It 'packs a versioned nupkg in the PowerShell module layout, bin/ scripts executable' {
        Test-Path $nupkg | Should -BeTrue
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($nupkg)
        try {
            $names = $zip.Entries.FullName
            $names | Should -Contain 'FlannelPS.nuspec'
            $names | Should -Contain 'FlannelPS.psd1'
            $names | Should -Contain 'FlannelPS.dll'
            $names | Should -Contain 'deps/FlannelPS.Core.dll'
            $names | Should -Contain 'bin/flanneld'
            $names | Should -Contain 'bin/flanneld-start'
            $names | Should -Contain 'en-US/FlannelPS.dll-Help.xml'
            $names | Should -Contain 'LICENSE'
            $reader = [IO.StreamReader]::new($zip.GetEntry('FlannelPS.nuspec').Open())
            [xml] $nuspec = $reader.ReadToEnd(); $reader.Dispose()
            $nuspec.package.metadata.id | Should -Be 'FlannelPS'
            $nuspec.package.metadata.version | Should -Be $version
            foreach ($script in 'bin/flanneld', 'bin/flanneld-start', 'bin/mk-docker-opts') {
                (($zip.GetEntry($script).ExternalAttributes -shr 16) -band 0x49) | Should -Be 0x49 -Because "$script keeps u+x,g+x,o+x"
            }
        }
        finally { $zip.Dispose() }
    }

    It 'installs with Install-PSResource from a local folder repository, and the installed module works in a fresh pwsh' {
        $install = Invoke-IsolatedPwsh @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name '$repoName' -Uri '$feed' -Trusted
try {
    Install-PSResource -Name FlannelPS -Repository '$repoName' -Scope CurrentUser -TrustRepository -Quiet
    (Get-InstalledPSResource -Name FlannelPS -Scope CurrentUser).InstalledLocation
}
finally { Unregister-PSResourceRepository -Name '$repoName' }
"@
        $install.ExitCode | Should -Be 0 -Because $install.Err
        $installedRoot = Join-Path $pkgHome '.local/share/powershell/Modules/FlannelPS'
        Test-Path (Join-Path $installedRoot "$version/FlannelPS.psd1") | Should -BeTrue

        $work = Join-Path $pkgHome 'work'
        New-Item -ItemType Directory $work -Force | Out-Null
        Set-Content -Path (Join-Path $work 'subnet.env') -NoNewline -Value "FLANNEL_NETWORK=10.0.0.0/16`nFLANNEL_SUBNET=10.0.72.1/24`nFLANNEL_MTU=1472`nFLANNEL_IPMASQ=true`n"
        $use = Invoke-IsolatedPwsh @"
`$ErrorActionPreference = 'Stop'
Import-Module FlannelPS
`$m = Get-Module FlannelPS
Export-FlannelDockerOptions -SubnetFile '$work/subnet.env' -Path '$work/docker_opts.env' -WarningAction SilentlyContinue | Out-Null
[pscustomobject]@{
    Version  = `$m.Version.ToString()
    Base     = `$m.ModuleBase
    Commands = @(Get-Command -Module FlannelPS | ForEach-Object Name)
    Docker   = Get-Content '$work/docker_opts.env' -Raw
} | ConvertTo-Json -Compress
"@
        $use.ExitCode | Should -Be 0 -Because $use.Err
        $r = $use.Out | ConvertFrom-Json
        $r.Version | Should -Be $version
        $r.Base | Should -Be (Join-Path $installedRoot $version)
        $r.Commands | Should -Contain 'Start-FlannelNode'
        $r.Commands | Should -Contain 'Install-FlannelService'
        $r.Commands | Should -Contain 'Export-FlannelDockerOptions'
        $r.Docker | Should -Match 'DOCKER_OPTS=".*--bip=10\.0\.72\.1/24'

        # The installed command runs as installed: executable, and it finds its own module.
        $flanneld = Join-Path $installedRoot "$version/bin/flanneld"
        (Get-Item $flanneld).UnixMode | Should -Be '-rwxr-xr-x'
        $out = Join-Path $pkgHome 'version.txt'
        $p = Start-Process -FilePath $flanneld -ArgumentList '--version' -RedirectStandardError $out -PassThru -Wait
        $p.ExitCode | Should -Be 0
        (Get-Content $out -Raw).Trim() | Should -BeExactly "v$version (FlannelPS)"
    }

    It 'is found by each of its cmdlet names in a folder repository (Find-PSResource -CommandName)' {
        $cmdlets = (Import-PowerShellDataFile (Join-Path $repoRoot 'module/FlannelPS.psd1')).CmdletsToExport
        $find = Invoke-IsolatedPwsh @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name '$repoName' -Uri '$feed' -Trusted
try {
    foreach (`$c in '$($cmdlets -join "','")', 'Get-NoSuchFlannelThing') {
        `$r = Find-PSResource -CommandName `$c -Repository '$repoName' -ErrorAction SilentlyContinue
        "`$c=`$(@(`$r.ParentResource.Name) -join ',')"
    }
}
finally { Unregister-PSResourceRepository -Name '$repoName' }
"@
        $find.ExitCode | Should -Be 0 -Because $find.Err
        $lines = @($find.Out.Trim() -split "`n" | ForEach-Object Trim)
        $lines | Should -Be (@($cmdlets | ForEach-Object { "$_=FlannelPS" }) + 'Get-NoSuchFlannelThing=')
    }

    It 'the installed module talks to etcd (Get-FlannelNetworkConfig)' {
        $etcd = Get-TestEtcdEndpoint
        $prefix = New-TestPrefix 'pkg'
        Invoke-Etcdctl put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"alloc"}}' | Out-Null
        $r = Invoke-IsolatedPwsh "Import-Module FlannelPS; (Get-FlannelNetworkConfig -EtcdEndpoint '$etcd' -EtcdPrefix '$prefix').Network; (Get-Module FlannelPS).ModuleBase"
        $r.ExitCode | Should -Be 0 -Because $r.Err
        $lines = $r.Out.Trim() -split "`n"
        $lines[0] | Should -Be '10.0.0.0/16'
        $lines[1] | Should -BeLike (Join-Path $pkgHome '*')
    }
}
