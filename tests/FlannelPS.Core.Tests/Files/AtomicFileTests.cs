using FlannelPS.Core.Files;

namespace FlannelPS.Core.Tests.Files;

// Linux-only product; the Unix mode APIs are what is under test.

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fpdk-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void CreatesMissingDirectoriesWith0755AndFileWith0644()
    {
        var path = Path.Combine(_dir, "a", "b", "subnet.env");
        AtomicFile.WriteAllText(path, "X=1\n");
        Assert.Equal("X=1\n", File.ReadAllText(path));
        Assert.Equal(AtomicFile.DefaultMode, File.GetUnixFileMode(path));
        Assert.Equal(AtomicFile.DirectoryMode, File.GetUnixFileMode(Path.Combine(_dir, "a", "b")));
    }

    [Fact]
    public void ReplacesExistingFileWithGivenModeAndLeavesNoTempFiles()
    {
        var path = Path.Combine(_dir, "opts.env");
        File.WriteAllText(path, "old content that is longer than the new one\n");
        AtomicFile.WriteAllText(path, "new\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal("new\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(["opts.env"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void ReplacingSwapsTheInodeSoOpenReadersKeepTheOldContent()
    {
        var path = Path.Combine(_dir, "f");
        File.WriteAllText(path, "first\n");
        using var reader = new StreamReader(path);
        AtomicFile.WriteAllText(path, "second\n");
        Assert.Equal("first\n", reader.ReadToEnd());
        Assert.Equal("second\n", File.ReadAllText(path));
    }

    [Fact]
    public void FailureLeavesExistingFileUntouchedAndThrowsTypedError()
    {
        // The target is a non-empty directory: rename(2) fails after the temp file is written.
        var path = Path.Combine(_dir, "busy");
        Directory.CreateDirectory(Path.Combine(path, "inner"));
        var ex = Assert.Throws<FileWriteFailedException>(() => AtomicFile.WriteAllText(path, "x"));
        Assert.Equal("FlannelFileWriteFailed", ex.ErrorId);
        Assert.Contains(path, ex.Message);
        Assert.True(Directory.Exists(Path.Combine(path, "inner")));
        Assert.Equal(["busy"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }
}
