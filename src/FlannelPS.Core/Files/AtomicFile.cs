// Writes a whole file so readers see either the old content or the new, never a half-written
// file: write a temp file in the same directory, fsync it, then rename(2) it over the target.
using System.Text;
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Files;

// FlannelPS is Linux-only (linux-x64 RID); the Unix file-mode APIs are exactly what is wanted.

public static class AtomicFile
{
    /// <summary>rw-r--r--, what flannel HEAD (renameio) gives subnet.env regardless of umask.</summary>
    public const UnixFileMode DefaultMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>rwxr-xr-x for directories the write has to create.</summary>
    public const UnixFileMode DirectoryMode = DefaultMode |
        UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static void WriteAllText(string path, string content, UnixFileMode mode = DefaultMode) =>
        WriteAllBytes(path, Utf8NoBom.GetBytes(content), mode);

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/> atomically; creates the
    /// directory (0755) when missing. Throws <see cref="FileWriteFailedException"/> on any I/O failure,
    /// leaving an existing file untouched.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content, UnixFileMode mode = DefaultMode)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full) ?? "/";
        // A dot-prefixed random name in the same directory: rename(2) is only atomic within one
        // filesystem, and the dot keeps globbing readers (e.g. *.env) from seeing the temp file.
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            if (!Directory.Exists(dir)) Directory.CreateDirectory(dir, DirectoryMode);
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = mode,
            };
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            // UnixCreateMode is filtered by the umask; set the mode explicitly so it is exact.
            File.SetUnixFileMode(temp, mode);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new FileWriteFailedException(full, ex);
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { /* best effort */ }
    }
}

/// <summary>A file could not be written; the previous content (if any) is still in place.</summary>
public sealed class FileWriteFailedException(string path, Exception inner)
    : FlannelException("FlannelFileWriteFailed",
        inner is UnauthorizedAccessException ? FlannelErrorCategory.PermissionDenied : FlannelErrorCategory.InvalidOperation,
        $"Cannot write '{path}': {inner.Message} The existing file, if any, was left unchanged.", path, inner);
