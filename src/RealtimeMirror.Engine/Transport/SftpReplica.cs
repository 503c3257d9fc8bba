using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
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
    /// A replica on an SSH host, changed through SFTP only: every name travels as an SFTP string in PathEncoding
    /// (bytes, not UTF-8), none through a remote shell. SFTP v3 resolves paths through symlinks and cannot open
    /// without following, so every step that writes first checks, in that step, that the root and each ancestor is
    /// a real directory (<see cref="SftpPathGuard"/>); nothing about the replica is cached between calls. Files land
    /// under a temp name, get their attributes through the open handle, and are renamed over the final name with
    /// posix-rename, so readers never see half a file and a link at the final name is replaced, not followed.
    /// </summary>
    public sealed partial class SftpReplica : IReplica
    {
        private readonly MirrorTarget _target;
        // One limit for this connection, shared by the uploads running on it at once.
        private readonly BandwidthLimiter _limit;
        private readonly bool _acceptNewHostKey;
        private SftpClient _sftp;
        private RawSftpRequests _raw;
        private SftpPathGuard _guard;
        private bool? _canSetOwner;
        private CancellationTokenRegistration _abortOnCancel;
        private static readonly TimeSpan CancelGrace = TimeSpan.FromMilliseconds(400);

        public SftpReplica(MirrorTarget target, bool acceptNewHostKey = false)
        {
            _target = target;
            _limit = BandwidthLimiter.For(target.BandwidthLimit);
            _acceptNewHostKey = acceptNewHostKey;
        }

        /// <summary>Every SFTP request waits at most this long (the target's -IoTimeoutSeconds), then the connection counts as lost.</summary>
        private TimeSpan Timeout => _target.IoTimeout;

        public string TargetName => _target.Name;
        public string TransportName => "Sftp";
        public bool CanSetOwner => _target.PreserveOwner && (_canSetOwner ?? false);
        /// <summary>SFTP has no mknod: fifos and devices are skipped with a warning.</summary>
        public bool CanCreateSpecial => false;
        /// <summary>SFTP v3 carries whole seconds.</summary>
        public int TimeResolutionNanos => 1_000_000_000;
        /// <summary>SFTP v3 attributes hold unsigned 32-bit seconds.</summary>
        public bool TimesAre32Bit => true;
        /// <summary>SFTP v3 attributes carry no link count.</summary>
        public bool SeesLinkCount => false;

        public void Open(CancellationToken cancel)
        {
            cancel.ThrowIfCancellationRequested();
            if (_sftp != null && _sftp.IsConnected) return;
            _sftp?.Dispose();
            _sftp = new SftpClient(SshConnector.ConnectionFor(_target, compressed: _target.Compress)) { OperationTimeout = Timeout };
            SshConnector.Connect(_sftp, _target, _acceptNewHostKey, cancel);
            // The token lives as long as the session (the service's Stop): shutting the socket ends every request
            // blocked on a frozen host, where the requests themselves would wait out the I/O timeout. A live host gets
            // a moment first, so a cancelled upload can still close its handle and remove its temp file.
            var client = _sftp;
            _abortOnCancel.Dispose();
            _abortOnCancel = cancel.Register(() => System.Threading.Tasks.Task.Delay(CancelGrace).ContinueWith(_ =>
            {
                try { SshSocketAbort.Abort(client); } catch (Exception) { /* disposed meanwhile: nothing to end */ }
            }));
            _raw = new RawSftpRequests(_sftp);
            _guard = new SftpPathGuard(_raw, ResolveRoot(), Timeout);
            _canSetOwner = _sftp.ConnectionInfo.Username == "root";
        }

        /// <summary>
        /// Creates the configured root when absent, then resolves it once with realpath. Links in the configured path
        /// are the admin's choice and are followed here, once; from then on the resolved path is used and checked with
        /// lstat, so a root replaced by a link later is refused rather than followed.
        /// </summary>
        private string ResolveRoot()
        {
            var configured = string.IsNullOrEmpty(_target.RemotePath) ? "." : _target.RemotePath;
            if (configured.Length > 1) configured = configured.TrimEnd('/');
            var prefixes = new List<string>();
            for (int i = configured.IndexOf('/', 1); i > 0; i = configured.IndexOf('/', i + 1)) prefixes.Add(configured.Substring(0, i));
            prefixes.Add(configured);
            foreach (var p in prefixes)
            {
                try { _raw.LStat(p); }
                catch (SftpPathNotFoundException) { _raw.MkDir(p); }
            }
            var resolved = _raw.RealPath(configured)
                ?? throw new IOException($"Target '{_target.Name}': the server could not resolve replica root '{configured}'.");
            var attrs = _raw.LStat(resolved);
            if (!attrs.IsDirectory)
                throw new IOException($"Target '{_target.Name}': replica root '{configured}' ({resolved}) is not a directory.");
            return resolved;
        }

        private SftpPathGuard Guard => _guard ?? throw new InvalidOperationException("The SFTP replica is not open.");

        public FileMeta Stat(string relativePath)
        {
            var rel = RelativePath.Normalize(relativePath);
            var attrs = Guard.CheckRead(rel);
            return attrs == null ? null : ToMeta(rel, attrs);
        }

        public List<FileMeta> List(string relativeDir)
        {
            var rel = RelativePath.Normalize(relativeDir);
            var self = Guard.CheckRead(rel);
            if (self == null) throw new DirectoryNotFoundException($"Replica directory '{rel}' does not exist.");
            if (self.IsSymbolicLink) throw new IOException($"replica path '{rel}' is a symlink; refusing to list through it");
            if (!self.IsDirectory) throw new IOException($"replica path '{rel}' is not a directory");
            var entries = new List<FileMeta>();
            var handle = _raw.OpenDir(_guard.Remote(rel));
            try
            {
                // readdir's attributes are lstat's (OpenSSH): a link is listed as a link, never as what it points to.
                for (var batch = _raw.ReadDir(handle); batch != null; batch = _raw.ReadDir(handle))
                    foreach (var kv in batch)
                    {
                        if (kv.Key == "." || kv.Key == "..") continue;
                        var meta = ToMeta(RelativePath.Combine(rel, kv.Key), kv.Value);
                        if (meta != null) entries.Add(meta); // null: gone since readdir, like DirectoryHandle.List leaves it out
                    }
            }
            finally { _raw.Close(handle); }
            entries.Sort((a, b) => RelativePath.Utf8Order.Compare(a.RelativePath, b.RelativePath));
            return entries;
        }

        public void CreateDirectory(string relativePath, FileMeta meta)
        {
            var rel = RelativePath.Normalize(relativePath);
            var self = Guard.CheckWrite(rel)[0];
            if (self == null)
            {
                try { _raw.MkDir(_guard.Remote(rel)); }
                catch (SshException) when (IsRealDirectory(rel)) { /* made meanwhile: fine */ }
                self = _raw.LStat(_guard.Remote(rel));
            }
            if (!self.IsDirectory || self.IsSymbolicLink)
                throw new IOException($"replica path '{rel}' exists and is not a directory");
            if (meta != null) SetAttributes(a => _raw.SetStat(_guard.Remote(rel), a), meta);
        }

        private bool IsRealDirectory(string rel)
        {
            try { return _raw.LStat(_guard.Remote(rel)).IsDirectory; }
            catch (SftpPathNotFoundException) { return false; }
        }

        public long UploadFile(DirectoryHandle source, string relativePath, CancellationToken cancel)
        {
            var rel = RelativePath.Normalize(relativePath);
            if (rel.Length == 0) throw new ArgumentException("The replica root is not a file.", nameof(relativePath));
            using var input = source.OpenRead(rel, out var opened);
            var meta = opened.WithPath(rel); // what was read is what gets described: fstat of the open descriptor
            var temp = RelativePath.Combine(RelativePath.Parent(rel), DirectoryHandle.TempName(RelativePath.Name(rel)));
            Guard.CheckWrite(rel);
            // CREATE|EXCL: a name that exists (even as a link) fails instead of being opened through.
            var handle = _raw.Open(_guard.Remote(temp), RawSftpRequests.OpenWrite | RawSftpRequests.OpenCreateExclusive);
            try
            {
                // Private while it fills: the final mode may be tighter than the server's default for new files.
                _raw.FSetStat(handle, SftpAttributes.Mode(0x180 /*0600*/));
                long sent = SftpFileTransfer.Write(_raw, handle, BandwidthLimiter.Wrap(input, _limit, cancel), Timeout, cancel);
                cancel.ThrowIfCancellationRequested();
                SetAttributes(a => _raw.FSetStat(handle, a), meta);
                var h = handle;
                handle = null;
                _raw.Close(h);
                BeforeReplace?.Invoke(rel); // versions: the old file moves aside now, not before the transfer
                Guard.CheckWrite(rel);
                _raw.PosixRename(_guard.Remote(temp), _guard.Remote(rel));
                return sent;
            }
            catch (Exception e)
            {
                // A dead link would make each cleanup request wait out the timeout too; the temp is then removed by the
                // next compare of this directory (the planner deletes our temp names the source lacks).
                if (!IsDeadLink(e))
                {
                    if (handle != null) TryClose(handle);
                    // After Ctrl+C the removal is sent, not awaited: unlinking what a big upload wrote can keep the host
                    // busy for a second or more, and control comes back now (later requests queue behind it there).
                    TryRemoveTemp(temp, wait: !(e is OperationCanceledException));
                }
                throw;
            }
        }

        public bool ContentEquals(DirectoryHandle source, string relativePath, CancellationToken cancel)
        {
            var rel = RelativePath.Normalize(relativePath);
            using var input = source.OpenRead(rel, out var opened);
            var self = Guard.CheckRead(rel);
            // Only a regular file is read: the open below would follow a link at the final name.
            if (self == null || !self.IsRegularFile || self.IsSymbolicLink || self.Size != opened.Size) return false;
            var handle = _raw.Open(_guard.Remote(rel), RawSftpRequests.OpenRead);
            try { return SftpFileTransfer.Equal(_raw, handle, input, Timeout, cancel); }
            finally { TryClose(handle); }
        }

        public void ApplyMetadata(FileMeta meta)
        {
            var rel = RelativePath.Normalize(meta.RelativePath);
            var self = Guard.CheckWrite(rel)[0];
            if (self == null) throw new FileNotFoundException($"Replica entry '{rel}' does not exist.");
            // SFTP v3 SETSTAT follows a link at the final name: it would change the link's target. A link keeps
            // whatever owner and time it was created with; its mode means nothing on Linux.
            if (self.IsSymbolicLink || meta.Kind == EntryKind.Symlink) return;
            // Nor can SFTP v3 say whether a file has other names: a hard link to a file outside the replica would get
            // the chmod and chown too. A file's metadata is therefore never set in place; the caller sends it anew.
            if (self.IsRegularFile) throw new SharedInodeException(rel, 0);
            SetAttributes(a => _raw.SetStat(_guard.Remote(rel), a), meta);
        }

        public void CreateSymlink(FileMeta meta)
        {
            var rel = RelativePath.Normalize(meta.RelativePath);
            if (rel.Length == 0) throw new ArgumentException("The replica root cannot be a link.", nameof(meta));
            var temp = RelativePath.Combine(RelativePath.Parent(rel), DirectoryHandle.TempName(RelativePath.Name(rel)));
            Guard.CheckWrite(rel);
            _raw.SymLink(meta.LinkTarget, _guard.Remote(temp));
            try
            {
                Guard.CheckWrite(rel);
                _raw.PosixRename(_guard.Remote(temp), _guard.Remote(rel));
            }
            catch { TryRemoveTemp(temp); throw; }
        }

        /// <summary>SFTP v3 has no link request (hardlink@openssh.com is not reachable through SSH.NET): each name is sent.</summary>
        public bool CanHardLink => false;

        public void CreateHardLink(string existingRelativePath, string newRelativePath) =>
            throw new NotSupportedException("SFTP cannot make hard links; each name is sent on its own.");

        public void CreateSpecial(FileMeta meta) =>
            throw new NotSupportedException($"SFTP cannot create a {meta.Kind} ('{meta.RelativePath}') on target '{_target.Name}'.");

        public void Delete(string relativePath)
        {
            var rel = RelativePath.Normalize(relativePath);
            if (rel.Length == 0) throw new InvalidOperationException("Refusing to delete the replica root itself.");
            SftpFileAttributes self;
            try { self = Guard.CheckWrite(rel)[0]; }
            catch (DirectoryNotFoundException) { return; } // a missing parent: the entry is absent too
            if (self == null) return;
            if (self.IsDirectory && !self.IsSymbolicLink) DeleteTree(rel);
            else _raw.Remove(_guard.Remote(rel)); // links (and specials) go as themselves
        }

        /// <summary>Children first; descends only into entries listed as real directories, and List refuses a link.</summary>
        private void DeleteTree(string rel)
        {
            foreach (var child in List(rel))
            {
                if (child.Kind == EntryKind.Directory) { DeleteTree(child.RelativePath); continue; }
                Guard.CheckWrite(child.RelativePath);
                try { _raw.Remove(_guard.Remote(child.RelativePath)); }
                catch (SftpPathNotFoundException) { }
            }
            Guard.CheckWrite(rel);
            _raw.RmDir(_guard.Remote(rel));
        }

        public void Rename(string fromRelativePath, string toRelativePath)
        {
            var from = RelativePath.Normalize(fromRelativePath);
            var to = RelativePath.Normalize(toRelativePath);
            if (from.Length == 0 || to.Length == 0) throw new InvalidOperationException("Refusing to rename the replica root.");
            Guard.CheckWrite(from, to);
            _raw.PosixRename(_guard.Remote(from), _guard.Remote(to));
        }

        /// <summary>
        /// Owner first (chown clears set-uid/set-gid, so it must precede the mode), then mode and mtime, each request
        /// carrying only its own fields. When the owner is not set, the set-uid/set-gid bits are dropped: a set-uid file
        /// owned by whoever we log in as is not what the source had.
        /// </summary>
        private void SetAttributes(Action<SftpFileAttributes> send, FileMeta meta)
        {
            bool ownerSet = false;
            if (CanSetOwner && meta.Uid >= 0 && meta.Gid >= 0)
            {
                try { send(SftpAttributes.Owner(meta.Uid, meta.Gid)); ownerSet = true; }
                catch (SftpPermissionDeniedException) { _canSetOwner = false; }
            }
            int mode = meta.Mode;
            if (mode >= 0 && !ownerSet) mode &= ~0xC00;
            send(SftpAttributes.ModeAndTime(mode, meta.MTime));
        }

        /// <summary>The meta of an lstat'ed entry; null when it is a link that vanished before its target could be read.</summary>
        private FileMeta ToMeta(string rel, SftpFileAttributes attrs)
        {
            string link = null;
            if (attrs.IsSymbolicLink)
            {
                try { link = _raw.ReadLink(_guard.Remote(rel)); }
                catch (SftpPathNotFoundException) { return null; }
            }
            return SftpAttributes.ToMeta(rel, attrs, link);
        }

        private void TryClose(byte[] handle)
        {
            try { if (_sftp.IsConnected) _raw.Close(handle); } catch (Exception) { }
        }

        /// <summary>Removes our own temp name, after the same parent check any removal gets.</summary>
        private void TryRemoveTemp(string tempRel, bool wait = true)
        {
            try
            {
                if (!_sftp.IsConnected) return;
                _guard.CheckWrite(tempRel);
                if (wait) _raw.Remove(_guard.Remote(tempRel));
                else _raw.RemoveAsync(_guard.Remote(tempRel)).ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            }
            catch (Exception) { }
        }

        private static bool IsDeadLink(Exception e) =>
            e is SshOperationTimeoutException || e is SshConnectionException || e is System.Net.Sockets.SocketException;

        public void Dispose()
        {
            _abortOnCancel.Dispose();
            // Shut the socket first: a polite disconnect sends a message, which blocks forever on a frozen host.
            if (_sftp != null) try { SshSocketAbort.Abort(_sftp); } catch (Exception) { }
            _sftp?.Dispose();
            _sftp = null;
            _raw = null;
            _guard = null;
        }
    }
}
