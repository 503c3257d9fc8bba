using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Targets;
using Renci.SshNet;
using Renci.SshNet.Common;
using Renci.SshNet.Sftp;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// A replica on an SSH host, changed through SFTP only: every name travels as an SFTP string, none
    /// through a remote shell. Files land under a temp name and are renamed over the real one with
    /// posix-rename, so readers on the replica never see half a file.
    /// </summary>
    public sealed class SftpReplica : IReplica
    {
        private readonly MirrorTarget _target;
        private readonly bool _acceptNewHostKey;
        private SftpClient _sftp;
        private RawSftpRequests _raw;
        private string _root;
        private bool? _canSetOwner;

        public SftpReplica(MirrorTarget target, bool acceptNewHostKey = false)
        {
            _target = target;
            _acceptNewHostKey = acceptNewHostKey;
        }

        public string TargetName => _target.Name;
        public string TransportName => "Sftp";
        public bool CanSetOwner => _target.PreserveOwner && (_canSetOwner ?? false);

        /// <summary>The connected client, for callers that open further channels (rsync) on the same login.</summary>
        internal SftpClient Client => _sftp;

        public void Open(CancellationToken cancel)
        {
            if (_sftp != null && _sftp.IsConnected) return;
            _sftp?.Dispose();
            _sftp = new SftpClient(SshConnector.ConnectionFor(_target)) { OperationTimeout = TimeSpan.FromSeconds(60) };
            SshConnector.Connect(_sftp, _target, _acceptNewHostKey);
            _raw = new RawSftpRequests(_sftp);
            var remote = string.IsNullOrEmpty(_target.RemotePath) ? "." : _target.RemotePath;
            _root = remote.Length > 1 ? remote.TrimEnd('/') : remote;
            MakeDirectories(_root);
            _canSetOwner = _sftp.ConnectionInfo.Username == "root";
        }

        private string Remote(string rel)
        {
            var n = RelativePath.Normalize(rel);
            return n.Length == 0 ? _root : (_root == "/" ? "/" + n : _root + "/" + n);
        }

        private void MakeDirectories(string remotePath)
        {
            if (Exists(remotePath)) return;
            var parent = remotePath.Contains("/") ? remotePath.Substring(0, remotePath.LastIndexOf('/')) : "";
            if (parent.Length > 0) MakeDirectories(parent);
            _raw.MkDir(remotePath);
        }

        private bool Exists(string remotePath)
        {
            try { _raw.LStat(remotePath); return true; }
            catch (SftpPathNotFoundException) { return false; }
        }

        public FileMeta Stat(string relativePath)
        {
            SftpFileAttributes attrs;
            var remote = Remote(relativePath);
            try { attrs = _raw.LStat(remote); }
            catch (SftpPathNotFoundException) { return null; }
            return ToMeta(relativePath, remote, attrs);
        }

        public IEnumerable<FileMeta> Walk(string relativeDir)
        {
            var stack = new Stack<string>();
            stack.Push(RelativePath.Normalize(relativeDir));
            while (stack.Count > 0)
            {
                var dir = stack.Pop();
                var children = new List<ISftpFile>();
                try
                {
                    foreach (var f in _sftp.ListDirectory(Remote(dir)))
                        if (f.Name != "." && f.Name != "..") children.Add(f);
                }
                catch (SftpPathNotFoundException) { continue; }
                children.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                var subdirs = new List<string>();
                foreach (var child in children)
                {
                    var rel = RelativePath.Combine(dir, child.Name);
                    var meta = ToMeta(rel, child.FullName, child.Attributes);
                    if (meta == null) continue;
                    yield return meta;
                    if (meta.Kind == EntryKind.Directory) subdirs.Add(rel);
                }
                for (int i = subdirs.Count - 1; i >= 0; i--) stack.Push(subdirs[i]);
            }
        }

        public void CreateDirectory(string relativePath, FileMeta meta)
        {
            var remote = Remote(relativePath);
            if (!Exists(remote)) _raw.MkDir(remote);
            if (meta != null) SetAttributes(remote, meta);
        }

        public long UploadFile(string localFullPath, FileMeta meta, CancellationToken cancel)
        {
            var final = Remote(meta.RelativePath);
            var temp = SiblingTemp(final);
            try
            {
                long sent;
                using (var input = LocalFileSystem.OpenForReading(localFullPath))
                using (cancel.Register(() => { try { _sftp.Disconnect(); } catch { } }))
                {
                    // SSH.NET reports upload progress on a pool thread, possibly after UploadFile returns,
                    // so the stream's own position is the only reliable count of bytes sent.
                    _sftp.UploadFile(input, temp, false);
                    sent = input.Position;
                }
                cancel.ThrowIfCancellationRequested();
                SetAttributes(temp, meta);
                _raw.PosixRename(temp, final);
                return sent;
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
        }

        public bool ContentEquals(string localFullPath, string relativePath, CancellationToken cancel)
        {
            using (var a = LocalFileSystem.OpenForReading(localFullPath))
            using (var b = _sftp.OpenRead(Remote(relativePath)))
                return ContentCompare.StreamsEqual(a, b, cancel);
        }

        public void ApplyMetadata(FileMeta meta)
        {
            if (meta.Kind == EntryKind.Symlink) return; // SFTP setstat follows links: it would change the link's target
            SetAttributes(Remote(meta.RelativePath), meta);
        }

        public void CreateSymlink(FileMeta meta)
        {
            var final = Remote(meta.RelativePath);
            var temp = SiblingTemp(final);
            _raw.SymLink(meta.LinkTarget, temp);
            try { _raw.PosixRename(temp, final); }
            catch { TryDelete(temp); throw; }
        }

        public void Delete(string relativePath, bool isDirectory)
        {
            if (RelativePath.Normalize(relativePath).Length == 0)
                throw new InvalidOperationException("Refusing to delete the replica root itself.");
            var meta = Stat(relativePath);
            if (meta == null) return;
            if (meta.Kind != EntryKind.Directory) { _raw.Remove(Remote(relativePath)); return; }
            // Children first, deepest first; links are removed as links, never followed.
            var entries = new List<FileMeta>(Walk(relativePath));
            for (int i = entries.Count - 1; i >= 0; i--)
            {
                var e = entries[i];
                if (e.Kind == EntryKind.Directory) _raw.RmDir(Remote(e.RelativePath));
                else _raw.Remove(Remote(e.RelativePath));
            }
            _raw.RmDir(Remote(relativePath));
        }

        public void Rename(string fromRelativePath, string toRelativePath)
        {
            var existing = Stat(toRelativePath);
            if (existing != null && existing.Kind == EntryKind.Directory) Delete(toRelativePath, true);
            _raw.PosixRename(Remote(fromRelativePath), Remote(toRelativePath));
        }

        private void SetAttributes(string remote, FileMeta meta)
        {
            var attrs = _raw.LStat(remote);
            if (meta.Mode >= 0) SetMode(attrs, meta.Mode);
            attrs.LastWriteTimeUtc = LocalFileSystem.FromUnix(meta.MTime);
            attrs.LastAccessTimeUtc = DateTime.UtcNow;
            bool tryOwner = CanSetOwner && meta.Uid >= 0;
            if (tryOwner) { attrs.UserId = unchecked((int)meta.Uid); attrs.GroupId = unchecked((int)meta.Gid); }
            try
            {
                _raw.SetStat(remote, attrs);
            }
            catch (SftpPermissionDeniedException) when (tryOwner)
            {
                _canSetOwner = false; // not root after all: keep mode and time, give up on ownership
                SetAttributes(remote, meta);
            }
        }

        private static void SetMode(SftpFileAttributes a, int mode)
        {
            a.OwnerCanRead = (mode & 0x100) != 0; a.OwnerCanWrite = (mode & 0x80) != 0; a.OwnerCanExecute = (mode & 0x40) != 0;
            a.GroupCanRead = (mode & 0x20) != 0; a.GroupCanWrite = (mode & 0x10) != 0; a.GroupCanExecute = (mode & 0x8) != 0;
            a.OthersCanRead = (mode & 0x4) != 0; a.OthersCanWrite = (mode & 0x2) != 0; a.OthersCanExecute = (mode & 0x1) != 0;
            a.IsUIDBitSet = (mode & 0x800) != 0; a.IsGroupIDBitSet = (mode & 0x400) != 0; a.IsStickyBitSet = (mode & 0x200) != 0;
        }

        private static int ModeOf(SftpFileAttributes a) =>
            (a.OwnerCanRead ? 0x100 : 0) | (a.OwnerCanWrite ? 0x80 : 0) | (a.OwnerCanExecute ? 0x40 : 0) |
            (a.GroupCanRead ? 0x20 : 0) | (a.GroupCanWrite ? 0x10 : 0) | (a.GroupCanExecute ? 0x8 : 0) |
            (a.OthersCanRead ? 0x4 : 0) | (a.OthersCanWrite ? 0x2 : 0) | (a.OthersCanExecute ? 0x1 : 0) |
            (a.IsUIDBitSet ? 0x800 : 0) | (a.IsGroupIDBitSet ? 0x400 : 0) | (a.IsStickyBitSet ? 0x200 : 0);

        private FileMeta ToMeta(string rel, string remote, SftpFileAttributes a)
        {
            var kind = a.IsDirectory ? EntryKind.Directory : a.IsSymbolicLink ? EntryKind.Symlink : a.IsRegularFile ? EntryKind.File : (EntryKind?)null;
            if (kind == null) return null;
            string link = kind == EntryKind.Symlink ? _raw.ReadLink(remote) : null;
            return new FileMeta(rel, kind.Value, kind == EntryKind.Directory ? 0 : a.Size,
                LocalFileSystem.ToUnix(a.LastWriteTimeUtc), ModeOf(a), a.UserId, a.GroupId, link);
        }

        private static string SiblingTemp(string remoteFinal)
        {
            int slash = remoteFinal.LastIndexOf('/');
            var dir = slash < 0 ? "" : remoteFinal.Substring(0, slash + 1);
            return dir + ContentCompare.TempNameFor(remoteFinal.Substring(slash + 1));
        }

        private void TryDelete(string remote)
        {
            try { if (_sftp.IsConnected) _raw.Remove(remote); } catch (Exception) { }
        }


        // Transitional members of the new IReplica contract (filled in by the confinement work).
        public bool CanCreateSpecial => false;
        public int TimeResolutionNanos => 1000000000;
        public List<FileMeta> List(string relativeDir) => throw new NotImplementedException();
        public long UploadFile(DirectoryHandle source, string relativePath, CancellationToken cancel) => throw new NotImplementedException();
        public bool ContentEquals(DirectoryHandle source, string relativePath, CancellationToken cancel) => throw new NotImplementedException();
        public void CreateSpecial(FileMeta meta) => throw new NotSupportedException();
        public void Delete(string relativePath) => Delete(relativePath, false);

        public void Dispose()
        {
            _sftp?.Dispose();
            _sftp = null;
        }
    }
}
