using System;
using System.Collections.Generic;
using System.Threading;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// The replica side of a mirror: a tree we can read metadata from and change entry by entry. Every path is
    /// '/'-separated, relative to the replica root, in <see cref="Paths.PathEncoding"/>. Implementations confine
    /// every operation to that root, never follow a symlink in any component (creating a symlink aside), never
    /// pass a name through a shell, and hold no cached belief about the replica between calls.
    /// </summary>
    public interface IReplica : IDisposable
    {
        string TargetName { get; }
        /// <summary>"Local" or "Sftp".</summary>
        string TransportName { get; }

        /// <summary>Whether owner and group can be set here (root on the replica); if not they are not compared.</summary>
        bool CanSetOwner { get; }

        /// <summary>Whether fifos and device nodes can be made here (local, as root); if not they are skipped with a warning.</summary>
        bool CanCreateSpecial { get; }

        /// <summary>The finest mtime step this transport can set, in nanoseconds: 1 locally, 1,000,000,000 over SFTP v3.</summary>
        int TimeResolutionNanos { get; }

        /// <summary>
        /// Times read and set here are unsigned 32-bit seconds (SFTP v3): a replica time outside 1970-2106 reads back as
        /// its low 32 bits, and one set here is clamped to that range.
        /// </summary>
        bool TimesAre32Bit { get; }

        /// <summary>Connects (if remote) and makes sure the root directory exists.</summary>
        void Open(CancellationToken cancel);

        /// <summary>Metadata of one entry without following links; null when absent. A symlink among its parents throws.</summary>
        FileMeta Stat(string relativePath);

        /// <summary>The entries of one directory (not recursive). Throws when it cannot be listed.</summary>
        List<FileMeta> List(string relativeDir);

        /// <summary>Makes a directory (parent must exist), then applies <paramref name="meta"/> when given.</summary>
        void CreateDirectory(string relativePath, FileMeta meta);

        /// <summary>
        /// Reads <paramref name="relativePath"/> from <paramref name="source"/> (opened no-follow; metadata taken from the
        /// opened descriptor, so what lands matches what was read), writes it to a temp name beside its final one,
        /// applies that metadata and renames over. Returns bytes sent. Throws NotRegularFileException when the source
        /// entry is not a regular file any more, FileNotFoundException when it is gone.
        /// </summary>
        long UploadFile(DirectoryHandle source, string relativePath, CancellationToken cancel);

        /// <summary>True when the replica's file holds exactly the source file's bytes (reads, never writes).</summary>
        bool ContentEquals(DirectoryHandle source, string relativePath, CancellationToken cancel);

        /// <summary>
        /// Whether <see cref="Stat"/> and <see cref="List"/> report each entry's link count (locally; SFTP v3 carries none,
        /// so there every regular file is taken to have other names).
        /// </summary>
        bool SeesLinkCount { get; }

        /// <summary>
        /// Sets owner/group (when CanSetOwner), mode and mtime of the entry itself; a symlink's mode is never set. An
        /// entry that shares its inode with another name (a hard link: nlink &gt; 1 where that can be seen, any regular
        /// file where it cannot) is left untouched and <see cref="SharedInodeException"/> thrown: the caller replaces it.
        /// </summary>
        void ApplyMetadata(FileMeta meta);

        /// <summary>Creates or replaces a symlink (via a temp name and a rename).</summary>
        void CreateSymlink(FileMeta meta);

        /// <summary>Creates a fifo or device node; NotSupportedException where the transport cannot (see CanCreateSpecial).</summary>
        void CreateSpecial(FileMeta meta);

        /// <summary>Whether hard links can be made here (locally; SFTP v3 cannot).</summary>
        bool CanHardLink { get; }

        /// <summary>Makes <paramref name="newRelativePath"/> another name of the replica's <paramref name="existingRelativePath"/>
        /// (through a temp name and a rename, replacing what was there). NotSupportedException where CanHardLink is false.</summary>
        void CreateHardLink(string existingRelativePath, string newRelativePath);

        /// <summary>Removes a file, link, special or (recursively, never through a link) a directory; absent is not an error.</summary>
        void Delete(string relativePath);

        /// <summary>Renames within the replica, replacing a non-directory destination.</summary>
        void Rename(string fromRelativePath, string toRelativePath);

        /// <summary>Opens a regular file of the replica for reading, without following a link at any component
        /// (restoring a kept version). <paramref name="meta"/>: its metadata. NotRegularFileException for anything else.</summary>
        System.IO.Stream OpenRead(string relativePath, out FileMeta meta);
    }
}
