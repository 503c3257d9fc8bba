using System;
using System.IO;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;

namespace RealtimeMirror.Engine.Sync
{
    /// <summary>The source root was removed (or is not a directory now): nothing on the replica may be deleted until it is back.</summary>
    public sealed class SourceRootMissingException : IOException
    {
        public SourceRootMissingException(string path) : base($"Source root '{path}' is missing; nothing is deleted on the replica until it is back.") { Path = path; }
        public string Path { get; }
    }

    /// <summary>
    /// A source tree held open by its root directory, so every read below it is confined and follows no link. A
    /// held root that was deleted still lists as empty: checked before every plan, so that never reads as "the
    /// user deleted everything". A root removed and created again is reopened (the caller then compares it whole).
    /// </summary>
    public sealed class SourceRoot : IDisposable
    {
        private DirectoryHandle _handle;

        public SourceRoot(string path)
        {
            Path = path;
            Links = new HardLinkIndex();
        }

        public string Path { get; }
        public HardLinkIndex Links { get; private set; }

        // Entries left out on purpose (a fifo over SFTP) are warned about once, not at every compare that meets them.
        private readonly System.Collections.Generic.HashSet<string> _warnedSkips = new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal);

        /// <summary>True the first time this (path, reason) is seen: the caller warns then, and stays quiet after.</summary>
        public bool FirstSkipWarning(string relativePath, string why) => _warnedSkips.Add(relativePath + "\0" + why);

        public DirectoryHandle Handle => _handle ?? throw new SourceRootMissingException(Path);

        /// <summary>Opens or re-validates the root. True when it is now a different directory than before (reopened).</summary>
        public bool EnsureCurrent()
        {
            DirectoryHandle byPath;
            try { byPath = DirectoryHandle.Open(Path); }
            catch (DirectoryNotFoundException) { throw new SourceRootMissingException(Path); }
            catch (FileNotFoundException) { throw new SourceRootMissingException(Path); }
            if (_handle != null)
            {
                var held = _handle.Stat("");
                var now = byPath.Stat("");
                if (held != null && now != null && held.LinkCount > 0 && held.Device == now.Device && held.Inode == now.Inode)
                {
                    byPath.Dispose();
                    return false;
                }
                _handle.Dispose();
            }
            bool reopened = _handle != null;
            _handle = byPath;
            if (reopened) Links = new HardLinkIndex();
            return reopened;
        }

        public void Dispose()
        {
            _handle?.Dispose();
            _handle = null;
        }
    }
}
