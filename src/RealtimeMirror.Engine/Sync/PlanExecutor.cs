using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Transport;
using RealtimeMirror.Engine.Transport.Rsync;

namespace RealtimeMirror.Engine.Sync
{
    /// <summary>What running a plan left to do: paths whose source changed under us (plan them again) and paths that failed.</summary>
    public sealed class ExecutionOutcome
    {
        public List<string> Replan { get; } = new List<string>();
        public List<string> Failed { get; } = new List<string>();
    }

    /// <summary>
    /// Carries out a plan on one replica, in its order. File contents travel either one by one through the
    /// replica (local copy, SFTP upload) or, where the host has rsync and the batch is big enough to pay for it,
    /// together in one rsync push of exactly the files the plan chose (with --ignore-times: the planner already
    /// decided they may differ, so the receiver compares content by delta). A declined action (-Confirm) also
    /// skips everything below it; -WhatIf asks and changes nothing.
    /// </summary>
    public sealed class PlanExecutor
    {
        /// <summary>Files at least this big that the replica already has are updated by delta, not resent whole.</summary>
        public const long DeltaThreshold = 64 * 1024;
        /// <summary>At least this many files to send make one rsync push cheaper than uploads one by one.</summary>
        public const int BatchThreshold = 8;

        private readonly SourceRoot _source;
        private readonly IReplica _replica;
        private readonly DeltaPusher _delta;
        // Where this plan's deleted and overwritten entries go when the target keeps versions (one stamp per plan).
        private Versions.VersionKeeper _keeper;

        public PlanExecutor(SourceRoot source, IReplica replica, DeltaPusher delta)
        {
            _source = source;
            _replica = replica;
            _delta = delta;
        }

        public ExecutionOutcome Execute(Plan plan, SyncOptions o)
        {
            var outcome = new ExecutionOutcome();
            foreach (var (path, error) in plan.Errors) o.OnError(path, error);
            foreach (var (path, why) in plan.Skipped) o.OnWarning(path, why);
            var actions = plan.Actions;
            _keeper = o.KeepVersions != null && !o.DryRun ? new Versions.VersionKeeper(_replica) : null;
            SetReplaceHook(actions);
            if (o.DryRun)
            {
                foreach (var a in actions) if (!a.Quiet) o.ShouldProcess(a);
                return outcome;
            }

            var declined = new HashSet<string>(StringComparer.Ordinal);
            // With compression on, every file goes through rsync: SFTP would send it uncompressed.
            bool viaRsync = _delta != null && (_delta.Compresses || UseRsync(actions));
            bool pushing = viaRsync || (_delta != null && actions.Any(NeedsRsync));
            var toPush = new List<PlannedAction>();
            var afterPush = new List<PlannedAction>();
            var uploads = new List<PlannedAction>();
            int done = 0;
            foreach (var a in actions)
            {
                o.Cancel.ThrowIfCancellationRequested();
                o.OnProgress(done++, actions.Count, a.RelativePath);
                if (IsDeclined(a.RelativePath, declined)) continue;
                if (!a.Quiet && !o.ShouldProcess(a)) { declined.Add(a.RelativePath); continue; }
                if (viaRsync && (a.Kind == ActionKind.SendFile || a.Kind == ActionKind.CheckContent)) { toPush.Add(a); continue; }
                if (_delta != null && NeedsRsync(a)) { toPush.Add(a); continue; }
                // File contents go last, several at a time (their directories exist by then, as for a push).
                if (a.Kind == ActionKind.SendFile || a.Kind == ActionKind.CheckContent) { uploads.Add(a); continue; }
                // A file that may share its inode is sent anew rather than changed: with the other uploads.
                if (a.Kind == ActionKind.SetMetadata && a.Source?.Kind == EntryKind.File && MayShareInode(a)) { uploads.Add(a); continue; }
                // What the push or the uploads add to a directory changes its time: set directory metadata after them.
                if (a.Kind == ActionKind.SetMetadata && a.IsDirectory) { afterPush.Add(a); continue; }
                Run(a, o, outcome);
            }
            RunConcurrently(uploads, o, outcome);
            if (toPush.Count > 0) Push(toPush, plan.SourceListingFailed, o, outcome);
            foreach (var a in afterPush) Run(a, o, outcome);
            o.OnProgress(actions.Count, actions.Count, null);
            return outcome;
        }

        private static bool IsDeclined(string path, HashSet<string> declined)
        {
            if (declined.Count == 0) return false;
            if (declined.Contains(path)) return true;
            foreach (var a in RelativePath.Ancestors(path)) if (declined.Contains(a)) return true;
            return false;
        }

        /// <summary>
        /// What SFTP cannot do but the host's rsync can: make fifos and devices, set a symlink's own time, give a
        /// file that may share its inode new metadata without sending its data (rsync builds a new file from the old
        /// one's blocks and renames it over: no literal data, a new inode), and set a file's time before 1970 or after
        /// 2106 (SFTP v3 would clamp it).
        /// </summary>
        private bool NeedsRsync(PlannedAction a) =>
            a.Kind == ActionKind.MakeSpecial || a.Kind == ActionKind.MakeSymlink ||
            (a.Kind == ActionKind.SetMetadata && a.Source?.Kind == EntryKind.Symlink) ||
            (a.Source?.Kind == EntryKind.File && (a.Kind == ActionKind.SetMetadata || a.Kind == ActionKind.CheckContent) &&
             (MayShareInode(a) || !EntryComparer.Fits32Bit(a.Source.MTime)));

        /// <summary>
        /// The replica entry may have other names (hard links), perhaps outside the replica (a link to /etc/shadow planted
        /// by a user of the backup host): setting its owner, mode or time in place would change them all, so it is
        /// replaced by a new entry instead. Over SFTP, which cannot count links, every regular file counts as shared.
        /// Directories cannot be hard-linked.
        /// </summary>
        private bool MayShareInode(PlannedAction a)
        {
            var r = a.Replica;
            if (r == null || r.Kind == EntryKind.Directory) return false;
            return r.LinkCount > 1 || (!_replica.SeesLinkCount && r.Kind == EntryKind.File);
        }

        private static bool UseRsync(List<PlannedAction> actions)
        {
            int files = 0;
            foreach (var a in actions)
            {
                if (a.Kind != ActionKind.SendFile && a.Kind != ActionKind.CheckContent) continue;
                if (++files >= BatchThreshold) return true;
                if (a.Replica != null && a.Source.Size >= DeltaThreshold) return true; // a big file with a basis: send the difference only
            }
            return false;
        }

        private void Push(List<PlannedAction> actions, bool ioError, SyncOptions o, ExecutionOutcome outcome)
        {
            var clock = Stopwatch.StartNew();
            RsyncPushOutcome outcomeOfPush;
            try
            {
                outcomeOfPush = _delta.Push(_source.Handle, actions.Select(a => a.Source).ToList(), ignoreTimes: true, ioError: ioError,
                    r => o.OnResult(r), (path, e) => { o.OnError(path, e); outcome.Failed.Add(path); }, o.Cancel, _keeper?.StampDirectory);
            }
            catch (Exception e) when (!ReplicaFailure.IsConnectionLost(e) && !(e is OperationCanceledException))
            {
                // The rsync session failed (a server error, a protocol disagreement): say so, and still deliver the
                // batch one entry at a time over the replica's own transport, so one bad push never blocks a target.
                o.OnError("", e);
                if (_keeper != null) { _keeper = new Versions.VersionKeeper(_replica); SetReplaceHook(actions); } // never over what the push kept
                foreach (var a in actions) Run(a, o, outcome);
                return;
            }
            // The sender reports the regular files the receiver asked for; links and specials it makes unasked. What the
            // receiver did not confirm is not reported done: it was reported as an error and goes to the retry set.
            var notDone = new HashSet<string>(outcomeOfPush.ReplanPaths, StringComparer.Ordinal);
            notDone.UnionWith(outcomeOfPush.Unconfirmed);
            foreach (var a in actions)
                if (a.Source.Kind != EntryKind.File && !notDone.Contains(a.RelativePath))
                    o.OnResult(new SyncResult(_replica.TargetName, a.RelativePath,
                        a.Kind == ActionKind.SetMetadata ? SyncAction.MetadataOnly : a.Replica != null ? SyncAction.Updated : SyncAction.Copied,
                        false, 0, 0, 0, DeltaPusher.TransportName, null, RelativePath.ToFull(_source.Path, a.RelativePath), clock.Elapsed));
            // Unreadable files were reported (and go to the retry set); the others changed under us: plan them again.
            foreach (var r in outcomeOfPush.Replan)
                if (r.Reason != Transport.Rsync.RsyncReplanReason.Unreadable) outcome.Replan.Add(r.RelativePath);
        }

        /// <summary>Runs one action through the replica. Per-entry failures are reported; a lost connection is thrown.</summary>
        private void Run(PlannedAction a, SyncOptions o, ExecutionOutcome outcome) => Attempt(a, o)(o, outcome);

        /// <summary>Uploads at once: over SFTP each file costs several round trips, so a few in flight hide the latency.</summary>
        private const int ConcurrentUploads = 4;

        /// <summary>
        /// Runs file transfers a few at a time. The callbacks (WriteObject in a cmdlet) still run on this thread: the
        /// workers only do the I/O and hand back what to report.
        /// </summary>
        private void RunConcurrently(List<PlannedAction> files, SyncOptions o, ExecutionOutcome outcome)
        {
            var followers = _replica.CanHardLink ? SplitHardLinks(files) : new List<(PlannedAction, PlannedAction)>();
            RunConcurrentlyCore(files, o, outcome);
            foreach (var (leader, follower) in followers) LinkOrSend(leader, follower, o, outcome);
        }

        /// <summary>
        /// Names of one multiply-linked source file sent in the same plan: the first is sent, the others become hard
        /// links to it on the replica (rsync -H semantics). Removes the followers from <paramref name="files"/>.
        /// </summary>
        private static List<(PlannedAction Leader, PlannedAction Follower)> SplitHardLinks(List<PlannedAction> files)
        {
            var pairs = new List<(PlannedAction, PlannedAction)>();
            var leaders = new Dictionary<(long, long), PlannedAction>();
            foreach (var a in files)
            {
                var s = a.Source;
                if (s.LinkCount < 2 || s.Inode == 0) continue;
                if (leaders.TryGetValue((s.Device, s.Inode), out var leader)) pairs.Add((leader, a));
                else leaders[(s.Device, s.Inode)] = a;
            }
            foreach (var (_, f) in pairs) files.Remove(f);
            return pairs;
        }

        private void LinkOrSend(PlannedAction leader, PlannedAction follower, SyncOptions o, ExecutionOutcome outcome)
        {
            // Only a name that just landed is known to hold the source's content; otherwise send this name itself.
            if (outcome.Failed.Contains(leader.RelativePath) || outcome.Replan.Contains(leader.RelativePath))
            {
                Run(follower, o, outcome);
                return;
            }
            var clock = Stopwatch.StartNew();
            try
            {
                if (follower.Replica != null) KeepAside(follower.RelativePath);
                _replica.CreateHardLink(leader.RelativePath, follower.RelativePath);
                o.OnResult(new SyncResult(_replica.TargetName, follower.RelativePath, follower.Replica != null ? SyncAction.Updated : SyncAction.Copied,
                    false, 0, 0, 0, _replica.TransportName, null, RelativePath.ToFull(_source.Path, follower.RelativePath), clock.Elapsed));
            }
            catch (Exception e) when (!ReplicaFailure.IsConnectionLost(e))
            {
                Run(follower, o, outcome); // the leader did not land (or linking failed): send this name on its own
            }
        }

        private void RunConcurrentlyCore(List<PlannedAction> files, SyncOptions o, ExecutionOutcome outcome)
        {
            if (files.Count < 2)
            {
                foreach (var a in files) Run(a, o, outcome);
                return;
            }
            var reports = new System.Collections.Concurrent.BlockingCollection<Action<SyncOptions, ExecutionOutcome>>();
            var parallel = new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = ConcurrentUploads, CancellationToken = o.Cancel };
            var work = System.Threading.Tasks.Task.Run(() =>
            {
                try { System.Threading.Tasks.Parallel.ForEach(files, parallel, a => reports.Add(Attempt(a, o))); }
                finally { reports.CompleteAdding(); }
            });
            foreach (var report in reports.GetConsumingEnumerable()) report(o, outcome);
            try { work.Wait(); }
            catch (AggregateException e) when (e.InnerException != null)
            {
                // A lost connection (or Ctrl+C) ends the batch as it would one transfer at a time.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            }
        }

        /// <summary>Does one action's I/O and returns how to report it, so the report can run on the caller's thread.
        /// Per-entry failures become reports; a lost connection is thrown.</summary>
        private Action<SyncOptions, ExecutionOutcome> Attempt(PlannedAction a, SyncOptions o)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var result = RunOne(a, o, clock);
                return (opt, _) => { if (result != null) opt.OnResult(result); };
            }
            catch (Exception e) when (e is NotRegularFileException || e is SourceChangedException || PathRace.Is(e))
            {
                return (_, outcome) => outcome.Replan.Add(a.RelativePath); // the source moved on meanwhile: compare that path again
            }
            catch (Exception e) when (!ReplicaFailure.IsConnectionLost(e))
            {
                return (opt, outcome) => { opt.OnError(a.RelativePath, e); outcome.Failed.Add(a.RelativePath); };
            }
        }

        // The replica keeps the file an upload replaces itself, right before its final rename (see IReplaceAside).
        private bool _hooked;

        private void SetReplaceHook(List<PlannedAction> actions)
        {
            _hooked = false;
            if (!(_replica is Versions.IReplaceAside aside)) return;
            var keeper = _keeper;
            if (keeper == null) { aside.BeforeReplace = null; return; }
            // Only what the plan saw on the replica: a new file costs no probe for an old one.
            var replaced = new HashSet<string>(actions.Where(a => a.Replica != null && (a.Kind == ActionKind.SendFile || a.Kind == ActionKind.CheckContent))
                .Select(a => a.RelativePath), StringComparer.Ordinal);
            aside.BeforeReplace = rel => { if (replaced.Contains(rel)) keeper.MoveAside(rel); };
            _hooked = true;
        }

        /// <summary>With versions kept: moves the replica's entry into this plan's versions stamp. False when none is kept.</summary>
        private bool KeepAside(string relativePath) => _keeper != null && _keeper.MoveAside(relativePath);

        private SyncResult RunOne(PlannedAction a, SyncOptions o, Stopwatch clock)
        {
            SyncResult Result(SyncAction action, long bytes = 0) =>
                new SyncResult(_replica.TargetName, a.RelativePath, action, a.IsDirectory, bytes, bytes, 0, _replica.TransportName,
                    a.OldRelativePath, a.Source != null ? RelativePath.ToFull(_source.Path, a.RelativePath) : null, clock.Elapsed);
            bool existed = a.Replica != null;
            switch (a.Kind)
            {
                case ActionKind.MakeDirectory:
                    _replica.CreateDirectory(a.RelativePath, a.Source);
                    return Result(SyncAction.Copied);
                case ActionKind.SendFile:
                    if (existed && !_hooked) KeepAside(a.RelativePath);
                    return Result(existed ? SyncAction.Updated : SyncAction.Copied, _replica.UploadFile(_source.Handle, a.RelativePath, o.Cancel));
                case ActionKind.CheckContent:
                {
                    // Content that may be shared is never changed in place. Reading it first pays only when nothing else
                    // differs (a rename or a link count moved ctime): then equal content means nothing to write at all.
                    bool shared = MayShareInode(a);
                    if ((!shared || a.MetadataMatches) && _replica.ContentEquals(_source.Handle, a.RelativePath, o.Cancel))
                    {
                        if (shared) return null;
                        return ApplyInPlace(a) ? Result(SyncAction.MetadataOnly) : Result(SyncAction.Updated, Replace(a, o));
                    }
                    if (!_hooked) KeepAside(a.RelativePath);
                    return Result(SyncAction.Updated, _replica.UploadFile(_source.Handle, a.RelativePath, o.Cancel));
                }
                case ActionKind.SetMetadata:
                    if (!MayShareInode(a) && ApplyInPlace(a)) return a.Quiet ? null : Result(SyncAction.MetadataOnly);
                    return Result(SyncAction.Updated, Replace(a, o));
                case ActionKind.MakeSymlink:
                    if (existed) KeepAside(a.RelativePath);
                    _replica.CreateSymlink(a.Source);
                    return Result(existed ? SyncAction.Updated : SyncAction.Copied);
                case ActionKind.MakeSpecial:
                    if (existed && !KeepAside(a.RelativePath)) _replica.Delete(a.RelativePath);
                    _replica.CreateSpecial(a.Source);
                    _replica.ApplyMetadata(a.Source);
                    return Result(existed ? SyncAction.Updated : SyncAction.Copied);
                case ActionKind.Delete:
                    // Our own temp names (quiet) are never worth keeping.
                    if (a.Quiet || !KeepAside(a.RelativePath)) _replica.Delete(a.RelativePath);
                    return a.Quiet ? null : Result(SyncAction.Deleted);
                case ActionKind.Rename:
                    KeepAside(a.RelativePath); // an entry the rename replaces
                    _replica.Rename(a.OldRelativePath, a.RelativePath);
                    return Result(SyncAction.Renamed);
                default:
                    throw new ArgumentOutOfRangeException(nameof(a), a.Kind, "unknown action");
            }
        }

        /// <summary>Sets the metadata on the replica's entry; false when the replica found it shares its inode (a hard
        /// link made since the plan looked), which it then leaves untouched.</summary>
        private bool ApplyInPlace(PlannedAction a)
        {
            try { _replica.ApplyMetadata(a.Source); return true; }
            catch (SharedInodeException) { return false; }
        }

        /// <summary>A new entry under a temp name, renamed over the shared one: the other names keep their inode as it was.
        /// Returns the bytes sent.</summary>
        private long Replace(PlannedAction a, SyncOptions o)
        {
            switch (a.Source.Kind)
            {
                case EntryKind.File: return _replica.UploadFile(_source.Handle, a.RelativePath, o.Cancel);
                case EntryKind.Symlink: _replica.CreateSymlink(a.Source); return 0;
                case EntryKind.Directory: throw new InvalidOperationException($"'{a.RelativePath}': a directory has no hard links to replace.");
                default: _replica.CreateSpecial(a.Source); return 0;
            }
        }
    }

    /// <summary>The source entry is no longer what was planned (another size or kind): it is planned again.</summary>
    public sealed class SourceChangedException : IOException
    {
        public SourceChangedException(string path) : base($"'{path}' changed while it was being sent.") { }
    }
}
