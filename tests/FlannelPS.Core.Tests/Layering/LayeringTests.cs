// Keeps Core's layering: a lower layer never names a higher one, so the folders read bottom-up
// (addresses and errors, config and files, syscalls, the host seam, leases, backends, the node
// and its siblings). Checked on the compiled assembly, so a stray `using` cannot slip through.
using System.Reflection;
using NetArchTest.Rules;

namespace FlannelPS.Core.Tests.Layering;

public sealed class LayeringTests
{
    private const string Root = "FlannelPS.Core.";

    /// <summary>Each top-level namespace of Core and its layer; a namespace may use its own layer and lower ones.</summary>
    public static readonly IReadOnlyDictionary<string, int> Layers = new Dictionary<string, int>
    {
        ["Net"] = 0, ["Errors"] = 0, ["Diagnostics"] = 0,
        ["Config"] = 1, ["Files"] = 1,
        ["Interop"] = 2,
        ["Host"] = 3, ["Iptables"] = 3,
        ["Subnet"] = 4,
        ["Registry"] = 5,
        ["Backend"] = 6,
        ["Node"] = 7, ["Health"] = 7, ["Docker"] = 7, ["Service"] = 7, ["Cli"] = 7,
    };

    private static readonly Assembly Core = typeof(Net.Ip4).Assembly;

    public static IEnumerable<object[]> Pairs() =>
        from low in Layers from high in Layers where low.Value < high.Value select new object[] { low.Key, high.Key };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void A_lower_layer_never_depends_on_a_higher_one(string lower, string higher)
    {
        var result = Types.InAssembly(Core).That().ResideInNamespace(Root + lower)
            .ShouldNot().HaveDependencyOn(Root + higher).GetResult();
        Assert.True(result.IsSuccessful,
            $"{lower} (layer {Layers[lower]}) must not use {higher} (layer {Layers[higher]}): {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Every_namespace_of_core_has_a_layer()
    {
        var unlisted = Core.GetTypes()
            .Select(t => t.Namespace)
            .Where(n => n is not null && n.StartsWith(Root, StringComparison.Ordinal))
            .Select(n => n!.Substring(Root.Length).Split('.')[0])
            .Distinct()
            .Where(n => !Layers.ContainsKey(n))
            .ToList();
        Assert.True(unlisted.Count == 0, $"namespaces without a layer (add them to LayeringTests.Layers): {string.Join(", ", unlisted)}");
    }

    [Fact]
    public void Only_the_registry_touches_dotnet_etcd()
    {
        var result = Types.InAssembly(Core).That().DoNotResideInNamespace(Root + "Registry")
            .ShouldNot().HaveDependencyOn("dotnet_etcd").GetResult();
        Assert.True(result.IsSuccessful, $"etcd used outside Registry: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void Backends_do_not_know_each_other()
    {
        string[] backends = ["Udp", "Vxlan", "HostGw", "Alloc"];
        var failures = new List<string>();
        foreach (var a in backends)
            foreach (var b in backends.Where(b => b != a))
            {
                var r = Types.InAssembly(Core).That().ResideInNamespace($"{Root}Backend.{a}")
                    .ShouldNot().HaveDependencyOn($"{Root}Backend.{b}").GetResult();
                if (!r.IsSuccessful) failures.Add($"{a} → {b}: {string.Join(", ", r.FailingTypeNames ?? [])}");
            }
        Assert.True(failures.Count == 0, string.Join("; ", failures));
    }
}
