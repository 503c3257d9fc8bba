using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Transport.Rsync;
using Renci.SshNet;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// Pushes lists of entries with the replica host's own `rsync --server` (protocol 27, our sender), so only
    /// the changed parts of files cross the wire. One SSH connection, one exec channel per push.
    /// </summary>
    public sealed class DeltaPusher : IDisposable
    {
        private readonly MirrorTarget _target;
        private readonly SshClient _ssh;
        private readonly bool _owner;

        private DeltaPusher(MirrorTarget target, SshClient ssh, bool owner)
        {
            _target = target;
            _ssh = ssh;
            _owner = owner;
        }

        public const string TransportName = "Rsync";

        /// <summary>
        /// Connects and checks once that the host has rsync. Null when it has not (or Rsync is Never):
        /// the caller then sends whole files over SFTP. With Rsync = Always a missing rsync is an error.
        /// </summary>
        public static DeltaPusher TryOpen(MirrorTarget target, bool canSetOwner)
        {
            if (target.Kind != TargetKind.Ssh || target.Rsync == RsyncMode.Never) return null;
            var ssh = new SshClient(SshConnector.ConnectionFor(target));
            try
            {
                SshConnector.Connect(ssh, target);
                // A fixed command: no name of ours is in it.
                var probe = ssh.RunCommand("rsync --version");
                var firstLine = (probe.Result ?? "").Split('\n')[0];
                int protocol = ParseProtocol(firstLine);
                if (probe.ExitStatus == 0 && protocol >= RsyncSender.ProtocolVersion) return new DeltaPusher(target, ssh, canSetOwner);
                if (target.Rsync == RsyncMode.Always)
                    throw new TargetUnavailableException($"Target '{target.Name}': -Rsync Always, but {target.HostName} has no usable rsync ({(firstLine.Length > 0 ? firstLine : probe.Error?.Trim())}).") { IsPermanent = true };
                ssh.Dispose();
                return null;
            }
            catch
            {
                ssh.Dispose();
                throw;
            }
        }

        private static int ParseProtocol(string versionLine)
        {
            var m = System.Text.RegularExpressions.Regex.Match(versionLine, @"protocol version (\d+)");
            return m.Success ? int.Parse(m.Groups[1].Value) : 0;
        }

        /// <summary>
        /// Pushes and reports one SyncResult per entry the receiver created, updated or deleted. Files that
        /// changed while being read are pushed again (up to three rounds).
        /// </summary>
        public void Push(string sourceRoot, IReadOnlyList<FileMeta> entries, bool wholeTree, bool delete, GlobFilter exclude,
            Action<SyncResult> onResult, Action<string, Exception> onError, CancellationToken cancel)
        {
            var round = entries;
            for (int attempt = 0; attempt < 3 && round.Count > 0; attempt++)
            {
                var changed = PushOnce(sourceRoot, round, attempt == 0 && wholeTree, attempt == 0 && delete, exclude, onResult, onError, cancel);
                if (changed.Count == 0) return;
                round = WithParents(sourceRoot, changed.Select(p => LocalFileSystem.Stat(RelativePath.ToFull(sourceRoot, p), p)).Where(m => m != null).ToList());
            }
        }

        private IReadOnlyList<string> PushOnce(string root, IReadOnlyList<FileMeta> entries, bool wholeTree, bool delete, GlobFilter exclude,
            Action<SyncResult> onResult, Action<string, Exception> onError, CancellationToken cancel)
        {
            var options = new RsyncPushOptions
            {
                Delete = delete,
                PreserveOwner = _owner,
                PreserveGroup = _owner,
                ProtectFromDelete = exclude?.Patterns ?? Array.Empty<string>(),
            };
            var remoteRoot = string.IsNullOrEmpty(_target.RemotePath) ? "." : _target.RemotePath;
            var requested = new HashSet<string>(StringComparer.Ordinal);
            RsyncPushSummary summary;
            int exit;
            using (var session = new SshRsyncSession(_ssh, options, remoteRoot))
            {
                var sender = new RsyncSender(session.FromServer, session.ToServer, options);
                summary = sender.Push(root, entries, wholeTree, r =>
                {
                    requested.Add(r.RelativePath);
                    if (r.ReadError != null) { onError(r.RelativePath, r.ReadError); return; }
                    if (r.ChangedDuringTransfer) return; // reported when it is sent again
                    var action = !r.HadBasis ? SyncAction.Copied : r.LiteralBytes == 0 ? SyncAction.MetadataOnly : SyncAction.Updated;
                    onResult(new SyncResult(_target.Name, r.RelativePath, action, false, r.LiteralBytes, r.LiteralBytes, r.MatchedBytes,
                        TransportName, null, RelativePath.ToFull(root, r.RelativePath)));
                }, cancel);
                exit = session.WaitForExit();
                if (exit != 0 && exit != 24) // 24: files vanished at the source meanwhile, which the watcher reports anyway
                {
                    var why = string.Join("; ", summary.ServerMessages.Where(m => !m.StartsWith("deleting ", StringComparison.Ordinal)).Concat(new[] { session.Errors?.Trim() }).Where(s => !string.IsNullOrEmpty(s)));
                    onError("", new IOException($"rsync on {_target.HostName} exited with {exit}: {why}"));
                }
            }
            // rsync logs each entry it removes; report a removed directory once, as the SFTP path does.
            string lastDir = null;
            foreach (var d in summary.Deleted.OrderBy(x => x, RelativePath.Utf8Order))
            {
                if (lastDir != null && RelativePath.IsSameOrUnder(d, lastDir)) continue;
                lastDir = d;
                onResult(new SyncResult(_target.Name, d, SyncAction.Deleted, false, 0, 0, 0, TransportName));
            }
            // Directories and links the receiver made are in its log only: "dir/" and "link -> target".
            var kinds = entries.ToDictionary(e => e.RelativePath, e => e.Kind, StringComparer.Ordinal);
            foreach (var m in summary.ServerMessages)
            {
                string name = m.EndsWith("/") ? m.TrimEnd('/') : m.Contains(" -> ") ? m.Substring(0, m.IndexOf(" -> ", StringComparison.Ordinal)) : null;
                if (name == null || name == "." || requested.Contains(name) || !kinds.TryGetValue(name, out var kind) || kind == EntryKind.File) continue;
                onResult(new SyncResult(_target.Name, name, SyncAction.Copied, kind == EntryKind.Directory, 0, 0, 0, TransportName, null, RelativePath.ToFull(root, name)));
            }
            return summary.Changed;
        }

        /// <summary>A partial list must carry the parent directories of its entries, or the receiver cannot place them.</summary>
        public static List<FileMeta> WithParents(string root, IEnumerable<FileMeta> entries)
        {
            var result = new Dictionary<string, FileMeta>(StringComparer.Ordinal);
            foreach (var e in entries)
            {
                foreach (var dir in RelativePath.Ancestors(e.RelativePath))
                    if (!result.ContainsKey(dir))
                    {
                        var meta = LocalFileSystem.Stat(RelativePath.ToFull(root, dir), dir);
                        if (meta != null) result[dir] = meta;
                    }
                result[e.RelativePath] = e;
            }
            return result.Values.ToList();
        }

        // Transitional: the planner-driven push (replaced by the rsync work).
        public RsyncPushOutcome Push(Platform.DirectoryHandle source, IReadOnlyList<FileMeta> entries, bool ignoreTimes, bool ioError,
            Action<SyncResult> onFileResult, Action<string, Exception> onError, CancellationToken cancel) => throw new NotImplementedException();

        public void Dispose() => _ssh.Dispose();
    }
}

namespace RealtimeMirror.Engine.Transport
{
    public sealed class RsyncPushOutcome
    {
        public List<string> Unsent { get; } = new List<string>();
    }
}
