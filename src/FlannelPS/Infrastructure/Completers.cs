// Tab completion for lease subnets (read from etcd with the command's own -Etcd* values or the
// FLANNELD_* defaults, bounded to 2 s) and for interface names.
using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Net.NetworkInformation;
using FlannelPS.Core.Subnet;
using FlannelPS.Core.Registry;

namespace FlannelPS.Infrastructure;

public sealed class SubnetLeaseCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var endpoints = fakeBoundParameters["EtcdEndpoint"] switch
        {
            string one => [one],
            IEnumerable many => many.Cast<object>().Select(o => o.ToString() ?? string.Empty).ToArray(),
            _ => EtcdCmdlet.DefaultEndpoints(),
        };
        var options = new EtcdOptions
        {
            Endpoints = endpoints,
            Prefix = fakeBoundParameters["EtcdPrefix"] as string ?? EtcdCmdlet.DefaultPrefix(),
            RequestTimeout = TimeSpan.FromSeconds(2),
        };
        string[] subnets;
        try
        {
            subnets = Task.Run(async () =>
            {
                await using var registry = new EtcdSubnetRegistry(options);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                var snapshot = await registry.GetLeasesAsync(cts.Token).ConfigureAwait(false);
                return snapshot.Leases.Select(l => l.Subnet.ToString()).ToArray();
            }).GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            yield break; // completion never shows errors
        }
        var pattern = WildcardPattern.Get(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        foreach (var s in subnets.Where(s => pattern.IsMatch(s)).Order(StringComparer.Ordinal))
            yield return new CompletionResult(s, s, CompletionResultType.ParameterValue, s);
    }
}

public sealed class InterfaceCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces().OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            if (!pattern.IsMatch(nic.Name)) continue;
            var addrs = string.Join(", ", nic.GetIPProperties().UnicastAddresses.Select(a => a.Address.ToString()));
            yield return new CompletionResult(nic.Name, nic.Name, CompletionResultType.ParameterValue, $"{nic.Name} {addrs}");
        }
    }
}
