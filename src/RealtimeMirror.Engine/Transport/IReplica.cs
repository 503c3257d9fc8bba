using System;
using System.Collections.Generic;
using System.Threading;
using RealtimeMirror.Engine.Planning;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// The replica side of a mirror: a tree we can read metadata from and change entry by entry.
    /// Every path is '/'-separated and relative to the replica root; implementations confine every
    /// operation to that root and never pass a name through a shell.
    /// </summary>
    public interface IReplica : IDisposable
    {
        string TargetName { get; }
        /// <summary>"Local" or "Sftp".</summary>
        string TransportName { get; }

        /// <summary>Whether owner and group can be set here (root on the replica); if not they are not compared.</summary>
        bool CanSetOwner { get; }

        /// <summary>Connects (if remote) and makes sure the root directory exists.</summary>
        void Open(CancellationToken cancel);

        /// <summary>Metadata of one entry without following links; null when absent.</summary>
        FileMeta Stat(string relativePath);

        /// <summary>Everything below <paramref name="relativeDir"/> (not the directory itself), parents before children.</summary>
        IEnumerable<FileMeta> Walk(string relativeDir);

        void CreateDirectory(string relativePath, FileMeta meta);

        /// <summary>Sends the whole file to a temp name beside its final one, applies metadata, renames over. Returns bytes sent.</summary>
        long UploadFile(string localFullPath, FileMeta meta, CancellationToken cancel);

        /// <summary>True when the replica's file holds exactly the local file's bytes (reads, never writes).</summary>
        bool ContentEquals(string localFullPath, string relativePath, CancellationToken cancel);

        void ApplyMetadata(FileMeta meta);

        /// <summary>Creates or replaces a symlink.</summary>
        void CreateSymlink(FileMeta meta);

        /// <summary>Removes a file, link, or (recursively) a directory; absent is not an error.</summary>
        void Delete(string relativePath, bool isDirectory);

        /// <summary>Renames within the replica, replacing the destination.</summary>
        void Rename(string fromRelativePath, string toRelativePath);
    }
}
