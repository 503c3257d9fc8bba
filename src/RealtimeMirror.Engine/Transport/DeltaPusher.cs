using System;
using System.Collections.Concurrent;
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
    /// Pushes lists of entries with the replica host's own `rsync --server` (our sender, protocol 31 with rsync 3.2 and
    /// later: xxhash checksums, 64-bit times with nanoseconds; down to protocol 27 with older hosts), so only the
    /// changed parts of files cross the wire. One SSH connection, one exec channel per push. Our planner decides
    /// what to create and update (and deletes by itself); rsync only carries the entries it lists.
    /// </summary>
    public sealed class DeltaPusher : IDisposable
    {
        private readonly MirrorTarget _target;
        private readonly SshClient _ssh;
        private bool _owner;
        private readonly BandwidthLimiter _limit;
        // rsync 3.0 and later confirm each file they put in place when asked (see RsyncPushOptions.ConfirmEachFile).
        private readonly bool _confirms;
        // rsync 3.2 and later negotiate compression (zstd, which this sender speaks); an older one's data is compressed
        // by the SSH connection instead.
        private readonly bool _compressTokens;

        private DeltaPusher(MirrorTarget target, SshClient ssh, string versionLine)
        {
            _target = target;
            _confirms = ConfirmsFiles(versionLine);
            _compressTokens = target.Compress && NegotiatesCompression(versionLine);
            _limit = BandwidthLimiter.For(target.BandwidthLimit);
            _ssh = ssh;
        }

        public const string TransportName = "Rsync";

        /// <summary>The target asked for compression: file data should go through rsync, which can compress it.</summary>
        public bool Compresses => _target.Compress;

        /// <summary>What the SSH connection itself compresses with ("none" unless rsync cannot compress; tests).</summary>
        internal string ConnectionCompression => _ssh.ConnectionInfo.CurrentClientCompressionAlgorithm;

        /// <summary>
        /// Connects and checks once that the host has rsync. Null when it has not (or Rsync is Never):
        /// the caller then sends whole files over SFTP. With Rsync = Always a missing rsync is an error.
        /// </summary>
        public static DeltaPusher TryOpen(MirrorTarget target, bool canSetOwner)
        {
            var pusher = TryOpen(target);
            if (pusher != null) pusher._owner = canSetOwner;
            return pusher;
        }

        /// <summary>Whether the target could push through rsync at all: an SSH target whose Rsync is not Never.</summary>
        public static bool Applies(MirrorTarget target) => target.Kind == TargetKind.Ssh && target.Rsync != RsyncMode.Never;

        /// <summary>
        /// Owner and group are sent when the replica's own login can set them (root, with PreserveOwner): the same rule
        /// for what goes through rsync as for what goes over SFTP. Until told, a pusher does not send them.
        /// </summary>
        public void SetOwnerFrom(IReplica replica) => _owner = replica.CanSetOwner;

        /// <summary>The same, opened before the replica: the owner rule comes later, from <see cref="SetOwnerFrom"/>.</summary>
        public static DeltaPusher TryOpen(MirrorTarget target)
        {
            if (!Applies(target)) return null;
            target.Validate(); // a target file edited by hand skips Register-MirrorTarget's check
            UsableRsyncSeen.TryGetValue(LoginOf(target), out var seen);
            // Compression for rsync before 3.2 is zlib tokens, which this sender does not speak: the SSH connection
            // compresses instead (as -Compress does for SFTP), and rsync is not asked to.
            var ssh = Connect(target, compressed: seen != null && SshCompresses(target, seen));
            try
            {
                if (seen != null) return new DeltaPusher(target, ssh, seen);
                var versionLine = Probe(ssh, target);
                if (versionLine == null)
                {
                    ssh.Dispose();
                    return null;
                }
                UsableRsyncSeen[LoginOf(target)] = versionLine;
                if (SshCompresses(target, versionLine))
                {
                    ssh.Dispose();
                    ssh = Connect(target, compressed: true);
                }
                return new DeltaPusher(target, ssh, versionLine);
            }
            catch
            {
                ssh.Dispose();
                throw;
            }
        }

        private static SshClient Connect(MirrorTarget target, bool compressed)
        {
            var ssh = new SshClient(SshConnector.ConnectionFor(target, compressed));
            try { SshConnector.Connect(ssh, target); }
            catch
            {
                ssh.Dispose();
                throw;
            }
            return ssh;
        }

        /// <summary>
        /// The first line of `rsync --version` on the host when it is a usable rsync; null when there is none (and Rsync
        /// is Auto). Throws for a shell that prints text first, and for Rsync Always without a usable rsync.
        /// </summary>
        private static string Probe(SshClient ssh, MirrorTarget target)
        {
            // A fixed command: no name of ours is in it. Bounded like every other wait on the host: a login whose
            // shell never gets to run it (a stuck rc file) is a lost connection, retried, not a hang in Connecting.
            using var probe = ssh.CreateCommand("rsync --version");
            probe.CommandTimeout = target.IoTimeout;
            probe.Execute();
            Interlocked.Increment(ref _probesRun);
            var firstLine = LoginShellNoise.FirstLine(probe.Result) ?? "";
            // rsync's own first line starts with its name; anything before it is the shell's, and would be read
            // as the protocol version of every push.
            if (firstLine.Length > 0 && !firstLine.StartsWith("rsync ", StringComparison.Ordinal))
                throw new TargetUnavailableException(LoginShellNoise.Message(target.Name, target.HostName, "rsync", firstLine)) { IsPermanent = true };
            if (probe.ExitStatus == 0 && ParseProtocol(firstLine) >= RsyncSender.MinProtocol) return firstLine;
            if (target.Rsync == RsyncMode.Always)
                throw new TargetUnavailableException($"Target '{target.Name}': -Rsync Always, but {target.HostName} has no usable rsync ({(firstLine.Length > 0 ? firstLine : probe.Error?.Trim())}).") { IsPermanent = true };
            return null;
        }

        /// <summary>
        /// The version line of each login whose rsync was found usable, for this process's life. The probe costs a run of
        /// the host's login shell (0.2-0.5 s where a shell's rc files do real work), on the way of every sync that opens
        /// a session: the service reconnecting, a script calling Sync-MirrorTree in a loop. Only a usable rsync is kept (a
        /// host without one may get it installed), and a push that fails forgets it, so a removed or replaced rsync is
        /// probed again at the next session.
        /// </summary>
        private static readonly ConcurrentDictionary<string, string> UsableRsyncSeen = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        private static int _probesRun;

        /// <summary>How many `rsync --version` probes this process ran (tests).</summary>
        internal static int ProbesRun => Volatile.Read(ref _probesRun);

        private static string LoginOf(MirrorTarget target) =>
            $"{SshConnector.LoginUser(target)}@{target.HostName}:{target.Port}";

        /// <summary>"rsync  version 3.2.7  protocol version 31": 3.0 and later confirm files with --remove-source-files.</summary>
        internal static bool ConfirmsFiles(string versionLine) => ParseVersion(versionLine).CompareTo((3, 0)) >= 0;

        /// <summary>"rsync  version 3.2.7 ...": 3.2 and later negotiate their compression from protocol 31 on.</summary>
        internal static bool NegotiatesCompression(string versionLine) =>
            ParseVersion(versionLine).CompareTo((3, 2)) >= 0 && ParseProtocol(versionLine) >= 31;

        /// <summary>-Compress to an rsync that cannot negotiate it: the SSH connection compresses instead.</summary>
        private static bool SshCompresses(MirrorTarget target, string versionLine) => target.Compress && !NegotiatesCompression(versionLine);

        /// <summary>(major, minor) of "rsync  version 3.2.7 ..."; (0, 0) when the line names none.</summary>
        private static (int Major, int Minor) ParseVersion(string versionLine)
        {
            var m = System.Text.RegularExpressions.Regex.Match(versionLine, @"version v?(\d+)\.(\d+)");
            return m.Success ? (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value)) : (0, 0);
        }

        /// <summary>Tests stand in for an older host: the version line its probe would have given.</summary>
        internal static void RememberProbe(MirrorTarget target, string versionLine) => UsableRsyncSeen[LoginOf(target)] = versionLine;

        internal static void ForgetProbe(MirrorTarget target) => UsableRsyncSeen.TryRemove(LoginOf(target), out _);

        private static int ParseProtocol(string versionLine)
        {
            var m = System.Text.RegularExpressions.Regex.Match(versionLine, @"protocol version (\d+)");
            return m.Success ? int.Parse(m.Groups[1].Value) : 0;
        }

        /// <summary>
        /// Sends exactly <paramref name="entries"/> (files, directories, links, specials: what the planner decided),
        /// adding their missing parent directories (stat'ed through <paramref name="source"/>). Never deletes. Reports
        /// one SyncResult per regular file the receiver asked for, from what we sent; returns the paths that did not go
        /// as listed (vanished, changed, another kind now, unreadable: the last also through <paramref name="onError"/>)
        /// so the caller plans them again.
        /// </summary>
        /// <param name="ignoreTimes">The receiver compares content even when size and mtime match (a same-second rewrite).</param>
        /// <param name="ioError">The listing behind these entries had errors (told to the receiver as rsync's io_error).</param>
        /// <param name="backupDir">Replica-relative directory the receiver moves every file it replaces into (rsync's
        /// --backup --backup-dir): the plan's versions stamp when the target keeps versions; null: none.</param>
        public RsyncPushOutcome Push(DirectoryHandle source, IReadOnlyList<FileMeta> entries, bool ignoreTimes, bool ioError,
            Action<SyncResult> onFileResult, Action<string, Exception> onError, CancellationToken cancel, string backupDir = null) =>
            Push(new DirectoryHandleSource(source), entries, ignoreTimes, ioError, onFileResult, onError, cancel, backupDir);

        /// <summary>The same over any source reader (tests use a stand-in).</summary>
        internal RsyncPushOutcome Push(IRsyncSource source, IReadOnlyList<FileMeta> entries, bool ignoreTimes, bool ioError,
            Action<SyncResult> onFileResult, Action<string, Exception> onError, CancellationToken cancel, string backupDir = null)
        {
            var orphans = new List<string>();
            var list = WithParents(source, entries, orphans);
            var options = OptionsFor(list, ignoreTimes);
            options.BackupDir = backupDir;
            var remoteRoot = string.IsNullOrEmpty(_target.RemotePath) ? "." : _target.RemotePath;
            RsyncPushOutcome outcome;
            bool pushed = false;
            if (Service.Logging.MirrorTrace.Enabled)
                Service.Logging.MirrorTrace.Write($"rsync push of {list.Count} entries; server command on {_target.HostName}: {RsyncServerCommand.RemoteCommandLine(options, remoteRoot)}");
            cancel.ThrowIfCancellationRequested();
            SshRsyncSession session = null;
            // Closing the channel and the connection is the one way to unblock a sender stuck on a frozen host or a
            // full SSH window; this pusher's connection is then gone and the session is rebuilt by the caller.
            using (var watchdog = new ChannelWatchdog(_target.IoTimeout, cancel, () => { SshSocketAbort.Abort(_ssh); session?.Dispose(); }))
            {
                try
                {
                    session = new SshRsyncSession(_ssh, options, remoteRoot);
                    if (watchdog.Fired) session.Dispose(); // fired while the channel opened: close it now
                    outcome = PushOver(session, watchdog, source, list, options, ioError, onFileResult, onError, out int exit);
                    pushed = exit == 0;
                }
                catch (Exception e) when (watchdog.Fired)
                {
                    cancel.ThrowIfCancellationRequested();
                    throw new Renci.SshNet.Common.SshOperationTimeoutException(
                        $"rsync on {_target.HostName}: nothing sent or received for {_target.IoTimeout.TotalSeconds:0} s (-IoTimeoutSeconds); the connection is taken as lost.", e);
                }
                finally
                {
                    session?.Dispose();
                    if (!pushed) ForgetProbe(_target); // the rsync found at the probe may be gone or another now
                }
            }
            foreach (var r in outcome.Replan)
                if (r.Reason == RsyncReplanReason.Unreadable) onError?.Invoke(r.RelativePath, r.Error);
            if (orphans.Count > 0)
                outcome.Replan = orphans.Select(p => new RsyncReplan(p, RsyncReplanReason.Vanished)).Concat(outcome.Replan).ToList();
            return outcome;
        }

        private RsyncPushOutcome PushOver(SshRsyncSession session, ChannelWatchdog watchdog, IRsyncSource source, List<FileMeta> list,
            RsyncPushOptions options, bool ioError, Action<SyncResult> onFileResult, Action<string, Exception> onError, out int exit)
        {
            RsyncPushOutcome outcome;
            // The limit applies to what we send (file data and sums), as rsync's --bwlimit does on the sending side.
            var toServer = BandwidthLimiter.Wrap(watchdog.Watch(session.ToServer), _limit, CancellationToken.None);
            var sender = new RsyncSender(watchdog.Watch(session.FromServer), toServer, options) { ServerName = _target.HostName };
            try
            {
                outcome = sender.Push(source, list, wholeTree: false, ioError ? FileListWriter.IoErrorGeneral : 0, r =>
                {
                    // A redo was reported in the first phase; a changed file is reported by the caller's re-plan.
                    if (r.Redo || r.Changed) return;
                    var action = !r.HadBasis ? SyncAction.Copied : r.LiteralBytes == 0 ? SyncAction.MetadataOnly : SyncAction.Updated;
                    onFileResult?.Invoke(new SyncResult(_target.Name, r.RelativePath, action, false, r.LiteralBytes, r.LiteralBytes, r.MatchedBytes,
                        TransportName, null, RelativePath.ToFull(source.Description, r.RelativePath)));
                }, watchdog.Token);
            }
            catch (EndOfStreamException e) when (!watchdog.Fired)
            {
                // The server died or never started ("rsync: command not found", a full disk): its stderr says why.
                string why = null;
                try { session.WaitForExit(); why = session.Errors?.Trim(); } catch (Exception) { /* the channel is gone too */ }
                throw new IOException($"rsync on {_target.HostName} ended the session: {e.Message}{(string.IsNullOrEmpty(why) ? "" : " " + why)}", e);
            }
            watchdog.Touch(); // the wait for the exit status gets a whole timeout of its own
            exit = session.WaitForExit();
            // Each file the receiver did not confirm failed on its own (a full disk, a locked directory): that path is
            // reported with what the server said about it, and goes to the caller's retry set.
            foreach (var path in outcome.Unconfirmed)
                onError?.Invoke(path, new IOException($"rsync on {_target.HostName} did not confirm '{path}' as written" +
                    (exit != 0 ? $" (exit {exit})" : "") + ": " + DescribeFor(path, outcome, session.Errors)));
            // A failure rsync ties to no file (a directory, a link, the session itself) retries the whole batch's tree.
            if (exit != 0 && outcome.Unconfirmed.Count == 0)
                onError?.Invoke("", new IOException($"rsync on {_target.HostName} exited with {exit}: {Describe(outcome, session.Errors)}"));
            return outcome;
        }

        private RsyncPushOptions OptionsFor(IReadOnlyList<FileMeta> list, bool ignoreTimes) => new RsyncPushOptions
        {
            PreserveOwner = _owner,
            ConfirmEachFile = _confirms,
            PreserveGroup = _owner,
            IgnoreTimes = ignoreTimes,
            Compress = _compressTokens,
            // Only when needed: the flags cost nothing, but -H makes every file carry 16 more bytes.
            PreserveSpecials = list.Any(FileListWriter.NeedsSpecials),
            PreserveHardLinks = list.Any(e => e.Kind == EntryKind.File && e.LinkCount > 1),
        };

        /// <summary>The server's lines that name <paramref name="path"/>, else all of them.</summary>
        private static string DescribeFor(string path, RsyncPushOutcome outcome, string stderr)
        {
            var about = outcome.ServerMessages.Concat((stderr ?? "").Split('\n'))
                .Where(l => l.Contains(RelativePath.Name(path), StringComparison.Ordinal)).Select(l => l.Trim()).Distinct().ToList();
            return about.Count > 0 ? string.Join("; ", about) : Describe(outcome, stderr) is var all && all.Length > 0 ? all : "no reason given";
        }

        private static string Describe(RsyncPushOutcome outcome, string stderr) =>
            string.Join("; ", outcome.ServerMessages.Concat(new[] { stderr?.Trim() }).Where(s => !string.IsNullOrEmpty(s)));

        /// <summary>
        /// The entries plus every ancestor directory not already among them: the receiver cannot place an entry whose
        /// parent it is not told about. An entry whose parent is gone (or is no directory now) is left out and
        /// returned in <paramref name="orphans"/>.
        /// </summary>
        internal static List<FileMeta> WithParents(IRsyncSource source, IEnumerable<FileMeta> entries, List<string> orphans)
        {
            var given = entries.Where(e => e.RelativePath.Length > 0).ToList();
            var result = new Dictionary<string, FileMeta>(StringComparer.Ordinal);
            foreach (var e in given) result[e.RelativePath] = e;
            var missing = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in given)
            {
                foreach (var dir in RelativePath.Ancestors(e.RelativePath))
                {
                    if (missing.Contains(dir)) break;
                    if (result.TryGetValue(dir, out var known))
                    {
                        if (known.Kind == EntryKind.Directory) continue;
                        missing.Add(dir);
                        break;
                    }
                    FileMeta meta = null;
                    try { meta = source.Stat(dir); } catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
                    if (meta == null || meta.Kind != EntryKind.Directory) { missing.Add(dir); break; }
                    result[dir] = meta;
                }
            }
            if (missing.Count == 0) return result.Values.ToList();
            var kept = new List<FileMeta>();
            foreach (var m in result.Values)
            {
                if (RelativePath.Ancestors(m.RelativePath).Any(missing.Contains)) orphans.Add(m.RelativePath);
                else kept.Add(m);
            }
            return kept;
        }

        public void Dispose()
        {
            // Shut the socket first: a polite disconnect sends a message, which blocks forever on a frozen host.
            try { SshSocketAbort.Abort(_ssh); } catch (Exception) { }
            _ssh.Dispose();
        }
    }
}
