// Dependency isolation: FlannelPS.Core and everything it brings (gRPC, Google.Protobuf, dotnet-etcd,
// Tmds.LibC) live in deps/ and load into a private AssemblyLoadContext, so another module that loaded
// a different Google.Protobuf first cannot break our etcd calls. Only the cmdlet assembly and this
// loader are in the default context; the cmdlets reach Core through the Resolving hook below. This assembly is imported
// before the cmdlet assembly (NestedModules), because PowerShell enumerates the cmdlet assembly's
// types, some of which implement Core interfaces, before any of its own code could run.
using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace FlannelPS.Loader;

public sealed class ModuleLoader : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private const string CoreAssembly = "FlannelPS.Core";
    private static readonly string DepsDirectory =
        Path.Combine(Path.GetDirectoryName(typeof(ModuleLoader).Assembly.Location)!, "deps");
    private static readonly DependencyLoadContext Context = new(DepsDirectory);

    public void OnImport()
    {
        AssemblyLoadContext.Default.Resolving += ResolveCore;
        // Load Core now so scripts can name its types (e.g. the flanneld command line) before any cmdlet runs.
        if (Directory.Exists(DepsDirectory)) Context.LoadFromAssemblyName(new AssemblyName(CoreAssembly));
    }

    public void OnRemove(PSModuleInfo psModuleInfo) => AssemblyLoadContext.Default.Resolving -= ResolveCore;

    private static Assembly? ResolveCore(AssemblyLoadContext context, AssemblyName name) =>
        name.Name == CoreAssembly && Directory.Exists(DepsDirectory) ? Context.LoadFromAssemblyName(name) : null;

    private sealed class DependencyLoadContext(string directory) : AssemblyLoadContext("FlannelPS.Dependencies")
    {
        protected override Assembly? Load(AssemblyName name)
        {
            var path = Path.Combine(directory, name.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null; // null: the framework's copy
        }
    }
}
