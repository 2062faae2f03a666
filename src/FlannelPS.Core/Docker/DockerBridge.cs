// Gives the Docker bridge (docker0) flannel's subnet address and MTU before Docker starts, so the
// existing bridge matches --bip and Docker does not refuse to start (the seed's manual step).
// Reads and changes the bridge through the host seam (rtnetlink); idempotent: a matching bridge is
// left alone. Each planned change is shown as the `ip` command that would do the same, for -WhatIf.
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

public enum BridgeChangeKind { CreateBridge, DeleteAddress, AddAddress, SetMtu, SetUp }

/// <summary>One change of a plan, with a readable description; ToString spells it as the equivalent `ip` command.</summary>
public sealed record BridgeChange(string Description, BridgeChangeKind Kind, string Name, HostAddress? Address = null, int Mtu = 0)
{
    public override string ToString() => Kind switch
    {
        BridgeChangeKind.CreateBridge => $"ip link add name {Name} type bridge",
        BridgeChangeKind.DeleteAddress => $"ip addr del {Address} dev {Name}",
        BridgeChangeKind.AddAddress => $"ip addr add {Address} dev {Name}",
        BridgeChangeKind.SetMtu => $"ip link set dev {Name} mtu {Mtu.ToString(CultureInfo.InvariantCulture)}",
        _ => $"ip link set dev {Name} up",
    };

    internal void ApplyTo(IHostNetwork host)
    {
        switch (Kind)
        {
            case BridgeChangeKind.CreateBridge: host.AddBridge(Name); break;
            case BridgeChangeKind.DeleteAddress: host.DeleteAddress(Name, Address!.Value); break;
            case BridgeChangeKind.AddAddress: host.AddAddress(Name, Address!.Value); break;
            case BridgeChangeKind.SetMtu: host.SetMtu(Name, Mtu); break;
            default: host.SetUp(Name); break;
        }
    }
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

    private readonly IHostNetwork _host;
    private readonly string? _netns;

    /// <param name="host">The host seam; rtnetlink by default.</param>
    /// <param name="netns">When set, the bridge is read and changed inside this named network namespace (tests, harnesses).</param>
    public DockerBridge(IHostNetwork? host = null, string? netns = null)
    {
        _host = host ?? new RtnetlinkHostNetwork();
        _netns = netns;
    }

    /// <summary>Reads the bridge's state and plans the changes that bring it to <paramref name="target"/>.</summary>
    public Task<BridgePlan> PlanAsync(string name, BridgeTarget target, CancellationToken cancellationToken)
    {
        ValidateName(name);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(InNamespace(() => Plan(name, target)));
    }

    private BridgePlan Plan(string name, BridgeTarget target)
    {
        HostLink? state;
        try
        {
            state = _host.GetLink(name);
        }
        catch (HostNetworkException e)
        {
            throw new FlannelException("FlannelBridgeChangeFailed", FlannelErrorCategory.InvalidOperation,
                $"Could not read interface '{name}': {e.Message}", name, e);
        }
        var plan = new List<BridgeChange>();
        var creates = state is null;
        if (state is null)
        {
            plan.Add(new($"create bridge {name}", BridgeChangeKind.CreateBridge, name));
            state = new HostLink(name, false, 1500, [], "bridge");
        }
        else if (state.Kind != "bridge")
        {
            throw new FlannelException("FlannelNotABridge", FlannelErrorCategory.InvalidOperation,
                $"Interface '{name}' exists but is a '{state.Kind ?? "plain"}' device, not a bridge. Use -Bridge to name another interface or delete this one.", name);
        }
        var want = new HostAddress(target.Address, target.PrefixLength);
        foreach (var old in state.Addresses)
            if (old != want) plan.Add(new($"remove old address {old} from {name}", BridgeChangeKind.DeleteAddress, name, old));
        if (!state.Addresses.Contains(want)) plan.Add(new($"add address {want} to {name}", BridgeChangeKind.AddAddress, name, want));
        if (state.Mtu != target.Mtu)
            plan.Add(new($"set MTU of {name} to {target.Mtu.ToString(CultureInfo.InvariantCulture)}", BridgeChangeKind.SetMtu, name, Mtu: target.Mtu));
        if (!state.IsUp) plan.Add(new($"set {name} up", BridgeChangeKind.SetUp, name));
        return new BridgePlan(name, target, creates, plan);
    }

    public Task ApplyAsync(BridgePlan plan, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        InNamespace(() =>
        {
            foreach (var change in plan.Changes)
            {
                try
                {
                    change.ApplyTo(_host);
                }
                catch (HostNetworkException e)
                {
                    throw new FlannelException("FlannelBridgeChangeFailed", FlannelErrorCategory.InvalidOperation,
                        $"Could not {change.Description} ({change}): {e.Message}", change.ToString(), e);
                }
            }
            return 0;
        });
        return Task.CompletedTask;
    }

    /// <summary>Plans and applies in one step; returns what was done.</summary>
    public async Task<FlannelDockerBridge> SetAsync(string name, BridgeTarget target, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(name, target, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(plan, cancellationToken).ConfigureAwait(false);
        return plan.ToResult();
    }

    private T InNamespace<T>(Func<T> work) => _netns is null ? work() : Interop.NetworkNamespace.Run(_netns, work);

    private static void ValidateName(string name)
    {
        // Linux IFNAMSIZ is 16 including the NUL; '/' and whitespace are never valid.
        if (name.Length is 0 or > 15 || name.Any(c => c == '/' || c == ':' || char.IsWhiteSpace(c)))
            throw new FlannelException("FlannelInvalidBridgeName", FlannelErrorCategory.InvalidArgument,
                $"'{name}' is not a valid interface name (1-15 characters, no '/', ':' or spaces).", name);
    }
}
