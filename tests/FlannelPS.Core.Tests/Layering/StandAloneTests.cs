// Keeps the repository readable on its own: a comment or doc that points at a document outside
// this tree (a section number of a spec, the team's shared notes) sends a newcomer to a file they
// do not have. Say the fact where it is needed instead, or write it into README.md.
using System.Text.RegularExpressions;

namespace FlannelPS.Core.Tests.Layering;

public sealed partial class StandAloneTests
{
    private static readonly string[] Folders = ["src", "tests", "bench", "module", "examples", "tools"];
    private static readonly string[] TextExtensions =
        [".cs", ".ps1", ".psm1", ".psd1", ".sh", ".c", ".md", ".json", ".props", ".csproj", ".service", ".txt", ".xml"];

    // A section sign before a number, or the names of the documents outside the tree.
    // Written so that this file does not match itself.
    [GeneratedRegex("\u00A7\\s*[0-9]|FLANNEL-" + "SPEC|TOOL" + "CHAIN\\.md|STY" + "LE\\.md|shared/" + "reference")]
    private static partial Regex OutsideReference();

    [Fact]
    public void No_file_cites_a_document_outside_the_repository()
    {
        var root = RepositoryRoot();
        var files = Folders.Select(f => Path.Combine(root, f)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
                        && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Where(f => TextExtensions.Contains(Path.GetExtension(f)) || Path.GetExtension(f) == "")
            .Append(Path.Combine(root, "README.md"))
            .ToList();
        Assert.True(files.Count > 100, $"found only {files.Count} files under {root}: is that the repository?");

        var hits = new List<string>();
        foreach (var file in files)
        {
            string[] lines;
            try { lines = File.ReadAllLines(file); }
            catch (IOException) { continue; }
            if (lines.Any(l => l.Contains('\0'))) continue; // a binary without an extension
            for (var i = 0; i < lines.Length; i++)
                if (OutsideReference().IsMatch(lines[i]))
                    hits.Add($"{Path.GetRelativePath(root, file)}:{i + 1}: {lines[i].Trim()}");
        }
        Assert.True(hits.Count == 0, "references to documents outside the repository:\n" + string.Join("\n", hits));
    }

    /// <summary>The folder holding FlannelPS.sln, above the test's output folder.</summary>
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FlannelPS.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no FlannelPS.sln above {AppContext.BaseDirectory}");
    }
}
