using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Win32.SafeHandles;
using RealtimeMirror.Engine.Planning;

namespace RealtimeMirror.Engine.Platform
{
    /// <summary>
    /// A held directory (the source root, or a local replica root) and every file operation the engine makes below
    /// it. Each relative path ('/'-separated, in <see cref="Paths.PathEncoding"/>) is resolved beneath the held
    /// directory and never through a symlink, in any component or at the final one: openat2 with
    /// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS, or a component-by-component O_NOFOLLOW walk where
    /// the kernel lacks openat2. A swapped-in symlink therefore makes an operation fail (ELOOP/ENOTDIR), never
    /// escape. Owner, mode and times are set on an open descriptor or with AT_SYMLINK_NOFOLLOW, never by path
    /// through a link. Errors are IOException/UnauthorizedAccessException subclasses carrying the errno
    /// (<see cref="PosixException"/>). Linux only (<see cref="IsSupported"/>); thread-safe (no shared state but the fd).
    /// </summary>
    public sealed partial class DirectoryHandle : IDisposable
    {
        public static bool IsSupported => Posix.IsAvailable;

        /// <summary>The absolute path this handle was opened at (for messages only: operations use the descriptor).</summary>
        public string Path { get; }

        /// <summary>
        /// Opens an existing directory. The path itself is resolved as the admin gave it (a root that is a symlink to
        /// a directory is allowed: the admin chose it); everything below is confined. Throws DirectoryNotFoundException
        /// when absent or not a directory.
        /// </summary>
        public static DirectoryHandle Open(string absolutePath) => OpenRoot(absolutePath);

        /// <summary>Opens (creating with parents, mode 0755, when absent) a directory: a local replica root.</summary>
        public static DirectoryHandle OpenOrCreate(string absolutePath)
        {
            CreateParents(absolutePath);
            return OpenRoot(absolutePath);
        }

        /// <summary>lstat of <paramref name="relativePath"/> ("" = the held directory); null when it (or a parent) does not
        /// exist or a parent is not a directory; a symlink parent throws (ELOOP) rather than being followed.
        /// Fills Kind (incl. specials), Size (link: target byte length), MTime+MTimeNanos, Mode &amp; 07777, Uid/Gid as
        /// unsigned 32-bit, LinkTarget for links (readlinkat), DeviceNumber, Device, Inode, LinkCount.</summary>
        public FileMeta Stat(string relativePath) => StatImpl(Normalize(relativePath));

        /// <summary>
        /// The entries of one directory (not recursive), each lstat'ed, names as raw bytes through PathEncoding, sorted
        /// by byte order (<see cref="Paths.RelativePath.Utf8Order"/>). RelativePath of each = Combine(relativeDir, name).
        /// Throws when the directory cannot be opened or read (EACCES, EIO, ENOENT, ENOTDIR, ELOOP): the caller must
        /// then not delete anything below it. An entry that vanishes between readdir and lstat is left out.
        /// </summary>
        public List<FileMeta> List(string relativeDir) => ListImpl(Normalize(relativeDir));

        /// <summary>
        /// Opens a regular file for reading: O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC beneath the root (a fifo never
        /// blocks the open), then fstat on the descriptor; anything but a regular file throws
        /// <see cref="NotRegularFileException"/> (with the kind found). O_NONBLOCK is cleared before returning.
        /// <paramref name="meta"/> is the fstat of what was opened (the data read matches it, not an earlier stat).
        /// </summary>
        public FileStream OpenRead(string relativePath, out FileMeta meta) => OpenReadImpl(Normalize(relativePath), out meta);

        /// <summary>mkdirat beneath the root (parent must exist). Existing directory: no error. Mode is applied later by SetMetadata.</summary>
        public void CreateDirectory(string relativePath) => CreateDirectoryImpl(NormalizeNonRoot(relativePath));

        /// <summary>
        /// Creates a new hidden temp file beside <paramref name="finalRelativePath"/> (O_CREAT|O_EXCL|O_WRONLY|O_NOFOLLOW,
        /// mode 0600) whose name fits in 255 bytes (<see cref="TempName"/>). Returns the stream and the temp's relative path.
        /// </summary>
        public FileStream CreateTemp(string finalRelativePath, out string tempRelativePath) =>
            CreateTempImpl(NormalizeNonRoot(finalRelativePath), out tempRelativePath);

        /// <summary>
        /// Sets owner/group (when <paramref name="setOwner"/>; failure to set the owner is not an error, but then the
        /// set-uid/set-gid bits are dropped from the mode, as rsync does), mode (not on symlinks), and mtime with
        /// nanoseconds (atime = now) on the entry itself, without following a link: through a descriptor opened with
        /// O_NOFOLLOW (O_PATH where needed) or AT_SYMLINK_NOFOLLOW. Returns false when the owner could not be set.
        /// A non-directory with other hard links throws <see cref="SharedInodeException"/> and is left as it is.
        /// </summary>
        public bool SetMetadata(string relativePath, FileMeta meta, bool setOwner) => SetMetadataImpl(Normalize(relativePath), meta, setOwner);

        /// <summary>Same as <see cref="SetMetadata(string, FileMeta, bool)"/> on an open file (the temp file before its rename).</summary>
        public static bool SetMetadata(SafeFileHandle file, FileMeta meta, bool setOwner) => SetMetadataOnFile(file, meta, setOwner);

        /// <summary>symlinkat: creates <paramref name="relativePath"/> pointing at <paramref name="target"/> (stored verbatim, PathEncoding bytes).</summary>
        public void CreateSymlink(string target, string relativePath) => CreateSymlinkImpl(target, NormalizeNonRoot(relativePath));

        /// <summary>mknodat/mkfifoat for Fifo, Socket (a socket node cannot be made: throws NotSupportedException), CharDevice, BlockDevice.</summary>
        public void CreateSpecial(string relativePath, FileMeta meta) => CreateSpecialImpl(NormalizeNonRoot(relativePath), meta);

        /// <summary>linkat (no follow) of an existing entry to a new name, both beneath the root.</summary>
        public void CreateHardLink(string existingRelativePath, string newRelativePath) =>
            CreateHardLinkImpl(NormalizeNonRoot(existingRelativePath), NormalizeNonRoot(newRelativePath));

        /// <summary>renameat beneath the root: atomic, replaces a file/link/empty directory at the destination.</summary>
        public void Rename(string fromRelativePath, string toRelativePath) =>
            RenameImpl(NormalizeNonRoot(fromRelativePath), NormalizeNonRoot(toRelativePath));

        /// <summary>
        /// Removes a file, link, special or (recursively, descending by descriptor with O_NOFOLLOW, never through a link)
        /// a directory. Absent: no error. The root itself ("") is refused.
        /// </summary>
        public void Delete(string relativePath) => DeleteImpl(Normalize(relativePath));

        /// <summary>A hidden name beside <paramref name="finalName"/>, unique per call, at most 255 bytes in PathEncoding
        /// (the final name is cut on a character boundary by bytes when needed): ".NAME.rtm-XXXXXXXXXXXX".</summary>
        public static string TempName(string finalName)
        {
            const string marker = ".rtm-";
            var suffix = marker + Guid.NewGuid().ToString("N").Substring(0, 12);
            int room = 255 - 1 - suffix.Length; // the leading dot and the suffix are ASCII
            var name = finalName;
            while (Paths.PathEncoding.ByteCount(name) > room)
            {
                int cut = name.Length - 1;
                if (cut > 0 && char.IsLowSurrogate(name[cut]) && char.IsHighSurrogate(name[cut - 1])) cut--;
                name = name.Substring(0, cut);
            }
            return "." + name + suffix;
        }

        /// <summary>True when a name was made by <see cref="TempName"/> (stale temp files are removed at start).</summary>
        public static bool IsTempName(string name) =>
            name.Length > 18 && name[0] == '.' && name.LastIndexOf(".rtm-", StringComparison.Ordinal) == name.Length - 17;

        public void Dispose() => _root.Dispose();
    }

    /// <summary>An OS error with its errno, e.g. ELOOP when a symlink was met where a directory was expected.</summary>
    public class PosixException : IOException
    {
        public PosixException(int errno, string message) : base(message) { Errno = errno; HResult = errno; }
        public int Errno { get; }
    }

    /// <summary>
    /// The replica entry has other hard links (or, where the transport cannot count them, may have): its metadata is
    /// not set in place, because that would change every name of the inode. The entry is replaced by a new one.
    /// </summary>
    public sealed class SharedInodeException : IOException
    {
        public SharedInodeException(string path, int linkCount)
            : base(linkCount > 1
                ? $"'{path}' has {linkCount} hard links; its metadata is not changed in place (that would change the other names too)."
                : $"'{path}' may have other hard links (the transport cannot tell); its metadata is not changed in place.")
        { LinkCount = linkCount; }
        /// <summary>The link count seen, or 0 where the transport cannot see it.</summary>
        public int LinkCount { get; }
    }

    /// <summary>The entry is a fifo, socket, device or directory where a regular file was expected; it is never opened.</summary>
    public sealed class NotRegularFileException : IOException
    {
        public NotRegularFileException(string path, EntryKind found) : base($"'{path}' is a {found}, not a regular file.") { Found = found; }
        public EntryKind Found { get; }
    }
}
