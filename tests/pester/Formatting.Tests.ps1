# The module's default table views, as a user sees them in an 80-column terminal: every column
# header whole, no value cut short with '…', no line wrapped. Rendered from objects of the views'
# type names (a peer is a real FlannelPeer) with the widest values the columns are sized for (a /24
# in 192.168/16, a 15-character address, the longest node state, a terabyte of counters).
BeforeDiscovery {
    $dto = [DateTimeOffset]::new(2026, 12, 4, 23, 59, 59, [TimeSpan]::Zero)
    $script:views = @(
        @{ Type = 'FlannelPS.Model.FlannelNetworkConfig'; Object = @{ Network = '192.168.0.0/16'; SubnetLen = 24; SubnetMin = '192.168.1.0'; SubnetMax = '192.168.255.0'; BackendType = 'host-gw'; SubnetCount = 65535 } }
        @{ Type = 'FlannelPS.Model.FlannelSubnetLease'; Object = @{ Subnet = '192.168.255.0/24'; PublicIP = '198.51.100.255'; BackendType = 'host-gw'; Expiration = $dto; IsReservation = $false } }
        @{ Type = 'FlannelPS.Model.FlannelNodeStatus'; Object = @{ JobId = 999; Name = 'FlannelNode'; State = 'WaitingForConfig'; Subnet = '192.168.255.0/24'; PublicIP = '198.51.100.255'; BackendType = 'host-gw'; PeerCount = 99999 } }
        @{ Type = 'FlannelPS.Core.Node.NodeEvent'; Object = @{ Time = $dto; Kind = 'LeaseAcquired'; Subnet = '192.168.255.0/24'; Message = 'acquired' } }
        # Get-FlannelNode's Peers: a real object of the type the cmdlet emits, so a view that selects
        # another type name leaves it without a view and fails here.
        @{ Type = 'FlannelPS.Model.FlannelPeer'; Real = $true; Object = @{ Subnet = '192.168.255.0/24'; PublicIP = '198.51.100.255'; Expiration = $null; TxPackets = 9999999999L; TxBytes = 999999999999L; RxPackets = 9999999999L; RxBytes = 999999999999L } }
    )
    $script:timed = @($views | Where-Object { $_.Object.Values | Where-Object { $_ -is [DateTimeOffset] } })
}

BeforeAll {
    Import-Module $env:FLANNELPS_MODULE -Force
    $script:formatFile = Join-Path (Split-Path $env:FLANNELPS_MODULE) 'FlannelPS.format.ps1xml'
    # A FlannelPeer as Get-FlannelNode makes it: through its (internal) constructor from the Core
    # record, its type taken from FlannelNodeStatus.Peers so it is the one the cmdlet emits.
    function New-FlannelPeer([System.Collections.IDictionary] $Values) {
        $type = [FlannelPS.Model.FlannelNodeStatus].GetProperty('Peers').PropertyType.GetElementType()
        $ctor = $type.GetConstructors([Reflection.BindingFlags]'NonPublic, Instance') | Select-Object -First 1
        $recordType = $ctor.GetParameters()[0].ParameterType
        $recordCtor = $recordType.GetConstructors() | Where-Object { $_.GetParameters()[0].ParameterType -ne $recordType } | Select-Object -First 1
        $record = $recordCtor.Invoke([object[]] @($recordCtor.GetParameters() | ForEach-Object { $Values[$_.Name] }))
        $ctor.Invoke(@($record))
    }
    function New-ViewObject([string] $Type, [System.Collections.IDictionary] $Object, [bool] $Real) {
        if ($Real) { return New-FlannelPeer $Object }
        $o = [pscustomobject]$Object
        $o.PSObject.TypeNames.Insert(0, $Type)
        $o
    }
    function Format-AsUserSees([string] $Type, [System.Collections.IDictionary] $Object, [bool] $Real) {
        $o = New-ViewObject $Type $Object $Real
        @(($o | Format-Table | Out-String -Width 80) -split "`r?`n" | Where-Object { $_.Trim() })
    }
}

Describe 'The table view of <Type>' -ForEach $views {
    BeforeAll {
        $script:lines = Format-AsUserSees $Type $Object ([bool]$Real)
        $view = ([xml](Get-Content -Raw $formatFile)).Configuration.ViewDefinitions.View | Where-Object { $_.ViewSelectedBy.TypeName -eq $Type }
        $script:headers = @($view.TableControl.TableHeaders.TableColumnHeader)
    }

    It 'exists, for the type name the object carries' {
        if ($Real) { (New-ViewObject $Type $Object $true).PSObject.TypeNames[0] | Should -BeExactly $Type }
        $headers | Should -Not -BeNullOrEmpty -Because "a table view in FlannelPS.format.ps1xml must select $Type"
    }

    It 'is sized to fit 80 columns' {
        $widths = @($headers | ForEach-Object { [int]$_.Width })
        ($widths | Measure-Object -Sum).Sum + $widths.Count - 1 | Should -BeLessOrEqual 80
    }

    It 'renders on three lines within 80 columns, every header whole and no value cut' {
        $lines.Count | Should -Be 3 -Because ($lines -join "`n")
        foreach ($l in $lines) { $l.Length | Should -BeLessOrEqual 80 -Because $l }
        ($lines -join "`n") | Should -Not -Match '…'
        foreach ($h in $headers) { $lines[0] | Should -Match "\b$([regex]::Escape($h.Label))\b" }
    }
}

Describe 'The time column of <Type>' -ForEach $timed {
    It 'shows local date and time to the second, without the offset' {
        $time = $Object.Values.Where({ $_ -is [DateTimeOffset] })[0]
        (Format-AsUserSees $Type $Object ([bool]$Real))[2] | Should -Match "\b$([regex]::Escape($time.ToLocalTime().ToString('yyyy-MM-dd HH:mm:ss')))\s"
    }
}
