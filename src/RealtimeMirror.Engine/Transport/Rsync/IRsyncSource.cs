using System.IO;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// Where the sender reads entries from: the confined source reader (<see cref="DirectoryHandle"/>) in the
    /// product, a stand-in in tests. Same contract as the handle's Stat and OpenRead.
    /// </summary>
    public interface IRsyncSource
    {
        /// <summary>For messages only.</summary>
        string Description { get; }

        /// <summary>lstat; null when absent.</summary>
        FileMeta Stat(string relativePath);

        /// <summary>Opens a regular file without following a link; <paramref name="meta"/> is the fstat of what was
        /// opened. Anything but a regular file throws <see cref="NotRegularFileException"/> (or ELOOP for a link).</summary>
        FileStream OpenRead(string relativePath, out FileMeta meta);
    }

    /// <summary>The product's source: every read confined beneath the held source root.</summary>
    public sealed class DirectoryHandleSource : IRsyncSource
    {
        private readonly DirectoryHandle _root;

        public DirectoryHandleSource(DirectoryHandle root) { _root = root; }

        public string Description => _root.Path;
        public FileMeta Stat(string relativePath) => _root.Stat(relativePath);
        public FileStream OpenRead(string relativePath, out FileMeta meta) => _root.OpenRead(relativePath, out meta);
    }
}
