// Gives the Docker bridge (docker0) flannel's subnet address and MTU before Docker starts, so the
// existing bridge matches --bip and Docker does not refuse to start (the seed's manual step).
// Reads state with `ip -j -d` and the parser the node checks use (no -4: it hides a link that has no
// IPv4 address), changes it with `ip`; idempotent: a matching bridge is left alone.
using System.Globalization;
using FlannelPS.Core.Errors;
using FlannelPS.Core.Files;
using FlannelPS.Core.Host;
using FlannelPS.Core.Net;

namespace FlannelPS.Core.Docker;

/// <summary>The address and MTU the bridge should have.</summary>
public sealed record BridgeTarget(Ip4 Address, int PrefixLength, int Mtu)
{
    public string Cidr => $"{Address}/{PrefixLength.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>From subnet.env's FLANNEL_SUBNET (address as written, e.g. 10.0.72.1/24) and FLANNEL_MTU.</summary>
    public static BridgeTarget FromSubnetEnv(IReadOnlyDictionary<string, string>? values, string subnetFile)
    {
        if (values is null)
            throw new SubnetFileNotFoundException(subnetFile);
        if (!values.TryGetValue("FLANNEL_SUBNET", out var subnet) || !Ip4Net.TryParse(subnet, out var net, out var ip))
            throw new FlannelException("FlannelSubnetFileInvalid", FlannelErrorCategory.InvalidData,
                $"FLANNEL_SUBNET in '{subnetFile}' is '{subnet ?? "(missing)"}', not an IPv4 CIDR such as 10.0.72.1/24.", subnetFile);
        if (!values.TryGetValue("FLANNEL_MTU", out var mtuText) || !int.TryParse(mtuText, NumberStyles.None, CultureInfo.InvariantCulture, out var mtu) || mtu < 68)
            throw new FlannelException("FlannelSubnetFileInvalid", FlannelErrorCategory.InvalidData,
                $"FLANNEL_MTU in '{subnetFile}' is '{mtuText ?? "(missing)"}', not an MTU (an integer of at least 68).", subnetFile);
        return new BridgeTarget(ip, net.PrefixLength, mtu);
    }
}

/// <summary>One ip invocation of a plan, with a readable description for -WhatIf.</summary>
public sealed record BridgeChange(string Description, IReadOnlyList<string> IpArguments)
{
    public override string ToString() => "ip " + string.Join(' ', IpArguments);
}

/// <summary>What it takes to bring a bridge to its target; empty Changes when it already matches.</summary>
public sealed record BridgePlan(string Name, BridgeTarget Target, bool CreatesBridge, IReadOnlyList<BridgeChange> Changes)
{
    public FlannelDockerBridge ToResult() => new()
    {
        Name = Name,
        Address = Target.Cidr,
        Mtu = Target.Mtu,
        Created = CreatesBridge,
        Changes = Changes.Select(c => c.ToString()).ToArray(),
    };
}

public sealed class DockerBridge
{
    public const string DefaultName = "docker0";

    private readonly ICommandRunner _runner;
    private readonly string? _netns;

    /// <param name="runner">Runs `ip`.</param>
    /// <param name="netns">When set, every command runs as `ip -n NETNS ...` (tests, harnesses).</param>
    public DockerBridge(ICommandRunner? runner = null, string? netns = null)
    {
        _runner = runner ?? ProcessCommandRunner.Default;
        _netns = netns;
    }

    /// <summary>Reads the bridge's state and plans the changes that bring it to <paramref name="target"/>.</summary>
    public async Task<BridgePlan> PlanAsync(string name, BridgeTarget target, CancellationToken cancellationToken)
    {
        ValidateName(name);
        var state = await ReadStateAsync(name, cancellationToken).ConfigureAwait(false);
        var plan = new List<BridgeChange>();
        var creates = state is null;
        if (state is null)
        {
            plan.Add(new($"create bridge {name}", ["link", "add", "name", name, "type", "bridge"]));
            state = new LinkState("bridge", 1500, false, []);
        }
        else if (state.Kind != "bridge")
        {
            throw new FlannelException("FlannelNotABridge", FlannelErrorCategory.InvalidOperation,
                $"Interface '{name}' exists but is a '{state.Kind ?? "plain"}' device, not a bridge. Use -Bridge to name another interface or delete this one.", name);
        }
        var want = target.Cidr;
        foreach (var old in state.Addresses)
            if (old != want) plan.Add(new($"remove old address {old} from {name}", ["addr", "del", old, "dev", name]));
        if (!state.Addresses.Contains(want)) plan.Add(new($"add address {want} to {name}", ["addr", "add", want, "dev", name]));
        if (state.Mtu != target.Mtu)
            plan.Add(new($"set MTU of {name} to {target.Mtu.ToString(CultureInfo.InvariantCulture)}", ["link", "set", "dev", name, "mtu", target.Mtu.ToString(CultureInfo.InvariantCulture)]));
        if (!state.Up) plan.Add(new($"set {name} up", ["link", "set", "dev", name, "up"]));
        return new BridgePlan(name, target, creates, plan);
    }

    public async Task ApplyAsync(BridgePlan plan, CancellationToken cancellationToken)
    {
        foreach (var change in plan.Changes)
        {
            var r = await IpAsync(change.IpArguments, cancellationToken).ConfigureAwait(false);
            if (!r.Succeeded)
                throw new FlannelException("FlannelBridgeChangeFailed", FlannelErrorCategory.InvalidOperation,
                    $"Could not {change.Description}: `{change}` failed: {r.StdErr.Trim()}", change.ToString());
        }
    }

    /// <summary>Plans and applies in one step; returns what was done.</summary>
    public async Task<FlannelDockerBridge> SetAsync(string name, BridgeTarget target, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(name, target, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(plan, cancellationToken).ConfigureAwait(false);
        return plan.ToResult();
    }

    private sealed record LinkState(string? Kind, int Mtu, bool Up, IReadOnlyList<string> Addresses);

    private async Task<LinkState?> ReadStateAsync(string name, CancellationToken cancellationToken)
    {
        var r = await IpAsync(["-j", "-d", "addr", "show", "dev", name], cancellationToken).ConfigureAwait(false);
        if (!r.Succeeded)
        {
            if (r.StdErr.Contains("does not exist", StringComparison.Ordinal)) return null;
            throw new FlannelException("FlannelBridgeChangeFailed", FlannelErrorCategory.InvalidOperation,
                $"Could not read interface '{name}': {r.StdErr.Trim()}", name);
        }
        var link = IpJsonHostNetwork.ParseLinks(r.StdOut).FirstOrDefault();
        return link is null ? null : new LinkState(link.Kind, link.Mtu, link.IsUp, link.Addresses.Select(a => a.ToString()).ToList());
    }

    private Task<CommandResult> IpAsync(IReadOnlyList<string> args, CancellationToken cancellationToken) =>
        _runner.RunAsync("ip", _netns is null ? args : ["-n", _netns, .. args], cancellationToken);

    private static void ValidateName(string name)
    {
        // Linux IFNAMSIZ is 16 including the NUL; '/' and whitespace are never valid.
        if (name.Length is 0 or > 15 || name.Any(c => c == '/' || c == ':' || char.IsWhiteSpace(c)))
            throw new FlannelException("FlannelInvalidBridgeName", FlannelErrorCategory.InvalidArgument,
                $"'{name}' is not a valid interface name (1-15 characters, no '/', ':' or spaces).", name);
    }
}
