using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Transport;
using RealtimeMirror.Engine.Transport.Rsync;

namespace RealtimeMirror.Engine.Sync
{
    /// <summary>
    /// Applies settled events to one replica. The source is the authority: every event is checked against
    /// the source as it is now, so a stale or reordered event can never make the replica wrong — at worst it
    /// does nothing. Renames become renames on the replica; deletes become deletes; a Rescan compares the subtree.
    /// </summary>
    public sealed class EventSynchronizer
    {
        private readonly IReplica _replica;
        // Directories known to exist on the replica, to save a stat per ancestor per event.
        private readonly HashSet<string> _knownDirs = new HashSet<string>(StringComparer.Ordinal);

        private readonly DeltaPusher _delta;

        /// <summary>Files at least this big that the replica already has are updated by delta, not resent whole.</summary>
        public const long DeltaThreshold = 64 * 1024;
        /// <summary>Batches with at least this many content events go through one rsync push instead of SFTP calls per file.</summary>
        public const int BatchThreshold = 8;

        public EventSynchronizer(IReplica replica, DeltaPusher delta = null) { _replica = replica; _delta = delta; }

        public IReplica Replica => _replica;

        /// <summary>
        /// Applies a run of events. With rsync available, consecutive content events (files created or changed,
        /// new directories with what is in them) travel in one push; renames, deletes and rescans keep their
        /// place in the order around them.
        /// </summary>
        public void ApplyBatch(IReadOnlyList<MirrorEvent> events, SyncOptions o)
        {
            if (_delta == null || events.Count < BatchThreshold)
            {
                foreach (var e in events) Apply(e, o);
                return;
            }
            var pending = new List<MirrorEvent>();
            foreach (var e in events)
            {
                bool content = (e.ChangeType == ChangeType.Created || e.ChangeType == ChangeType.Changed) && !o.Exclude.IsExcluded(e.RelativePath);
                if (content && (pending.Count == 0 || pending[0].WatchRoot == e.WatchRoot)) { pending.Add(e); continue; }
                FlushContent(pending, o);
                if (content) pending.Add(e); else Apply(e, o);
            }
            FlushContent(pending, o);
        }

        private void FlushContent(List<MirrorEvent> pending, SyncOptions o)
        {
            if (pending.Count == 0) return;
            if (pending.Count < BatchThreshold)
            {
                foreach (var e in pending) Apply(e, o);
                pending.Clear();
                return;
            }
            var root = pending[0].WatchRoot;
            var entries = new List<FileMeta>();
            foreach (var e in pending)
            {
                var rel = RelativePath.Normalize(e.RelativePath);
                var meta = LocalFileSystem.Stat(RelativePath.ToFull(root, rel), rel);
                if (meta == null) continue; // gone again: its delete event follows
                entries.Add(meta);
                if (meta.Kind == EntryKind.Directory) entries.AddRange(LocalFileSystem.Walk(root, o.Exclude, (p, ex) => o.OnError(p, ex), rel));
            }
            pending.Clear();
            if (entries.Count == 0) return;
            RsyncPushOutcome outcome;
            using (var source = DirectoryHandle.Open(root))
                outcome = _delta.Push(source, entries, ignoreTimes: false, ioError: false, o.OnResult, o.OnError, o.Cancel);
            // Entries that did not go as listed (changed while read, gone, another kind now) are planned again.
            foreach (var p in outcome.ReplanPaths) SyncPath(root, p, recursive: false, o);
            foreach (var e in entries) if (e.Kind == EntryKind.Directory) _knownDirs.Add(e.RelativePath);
        }

        public void Apply(MirrorEvent e, SyncOptions o)
        {
            var root = e.WatchRoot;
            var rel = RelativePath.Normalize(e.RelativePath);
            if (rel.Length > 0 && o.Exclude.IsExcluded(rel)) return;
            switch (e.ChangeType)
            {
                case ChangeType.Rescan:
                    _knownDirs.Clear();
                    TreeSynchronizer.Sync(root, rel, _replica, new SyncOptions
                    {
                        Delete = true, Exclude = o.Exclude, ShouldProcess = o.ShouldProcess, OnResult = o.OnResult,
                        OnError = o.OnError, OnProgress = o.OnProgress, Cancel = o.Cancel,
                    });
                    return;
                case ChangeType.Renamed when e.OldRelativePath != null:
                    ApplyRename(root, RelativePath.Normalize(e.OldRelativePath), rel, o);
                    return;
                default:
                    SyncPath(root, rel, recursive: e.IsDirectory && e.ChangeType != ChangeType.AttributeChanged, o);
                    return;
            }
        }

        private void ApplyRename(string root, string oldRel, string newRel, SyncOptions o)
        {
            bool oldGoneAtSource = LocalFileSystem.Stat(RelativePath.ToFull(root, oldRel), oldRel) == null;
            var replicaOld = o.Exclude.IsExcluded(oldRel) ? null : _replica.Stat(oldRel);
            var source = LocalFileSystem.Stat(RelativePath.ToFull(root, newRel), newRel);
            if (oldGoneAtSource && replicaOld != null && source != null && source.Kind == replicaOld.Kind)
            {
                TreeSynchronizer.EnsureParents(root, newRel, _replica, _knownDirs);
                var rename = new PlannedAction(ActionKind.Rename, newRel, source, replicaOld, oldRel);
                if (o.ShouldProcess(rename))
                {
                    var result = ActionRunner.Run(rename, _replica, root, o.Cancel);
                    if (result != null) o.OnResult(result);
                    ForgetDirsUnder(oldRel);
                    FixParentTime(root, oldRel);
                }
                // Content or metadata may have changed too; for a directory its contents moved with it.
                SyncPath(root, newRel, recursive: false, o);
                return;
            }
            // Not a plain rename on the replica (old name unknown there, or still present at the source): make both names right.
            if (oldGoneAtSource && replicaOld != null) SyncPath(root, oldRel, recursive: false, o);
            SyncPath(root, newRel, recursive: true, o);
        }

        /// <summary>Makes one path (and with <paramref name="recursive"/>, a directory's subtree) equal to the source.</summary>
        private void SyncPath(string root, string rel, bool recursive, SyncOptions o)
        {
            var source = LocalFileSystem.Stat(RelativePath.ToFull(root, rel), rel);
            if (source != null && source.Kind == EntryKind.Directory && recursive)
            {
                TreeSynchronizer.EnsureParents(root, rel, _replica, _knownDirs);
                var plan = TreeSynchronizer.PlanTree(root, rel, _replica, o);
                TreeSynchronizer.Execute(plan, root, _replica, o);
                _knownDirs.Add(rel);
                FixParentTime(root, rel);
                return;
            }
            var replica = _replica.Stat(rel);
            var plan1 = new List<PlannedAction>();
            if (source == null)
            {
                if (replica == null) return;
                plan1.Add(new PlannedAction(ActionKind.Delete, rel, null, replica));
                ForgetDirsUnder(rel);
            }
            else
            {
                TreeSynchronizer.EnsureParents(root, rel, _replica, _knownDirs);
                if (EntryComparer.KindsDiffer(source, replica))
                {
                    plan1.Add(new PlannedAction(ActionKind.Delete, rel, null, replica, quiet: true));
                    ForgetDirsUnder(rel);
                    replica = null;
                }
                var kind = source.Kind == EntryKind.Directory
                    ? (replica == null ? ActionKind.MakeDirectory : EntryComparer.MetadataDiffers(source, replica, _replica.CanSetOwner) ? ActionKind.SetMetadata : (ActionKind?)null)
                    : EntryComparer.Compare(source, replica, _replica.CanSetOwner);
                if (kind != null) plan1.Add(new PlannedAction(kind.Value, rel, source, replica));
                if (kind == ActionKind.MakeDirectory) plan1.Add(new PlannedAction(ActionKind.SetMetadata, rel, source, null, quiet: true));
            }
            if (plan1.Count == 0) return;
            if (_delta != null && plan1.Count == 1 && (plan1[0].Kind == ActionKind.SendFile || plan1[0].Kind == ActionKind.CheckContent)
                && plan1[0].Replica != null && source.Size >= DeltaThreshold && o.ShouldProcess(plan1[0]))
            {
                // A big file the replica has an older copy of: send only what changed.
                RsyncPushOutcome outcome;
                using (var src = DirectoryHandle.Open(root))
                    outcome = _delta.Push(src, new[] { source }, ignoreTimes: false, ioError: false, o.OnResult, o.OnError, o.Cancel);
                if (outcome.Replan.Count == 0)
                {
                    FixParentTime(root, rel);
                    return;
                }
                // Not sent as listed (changed while read...): the planned action sends it once more, by the replica.
            }
            TreeSynchronizer.Execute(plan1, root, _replica, o);
            if (source != null && source.Kind == EntryKind.Directory) _knownDirs.Add(rel);
            FixParentTime(root, rel);
        }

        /// <summary>Adding or removing an entry changes its directory's mtime on the replica; put the source's back.</summary>
        private void FixParentTime(string root, string rel)
        {
            var parent = RelativePath.Parent(rel);
            if (string.IsNullOrEmpty(parent)) return;
            var meta = LocalFileSystem.Stat(RelativePath.ToFull(root, parent), parent);
            if (meta == null || meta.Kind != EntryKind.Directory) return;
            try { _replica.ApplyMetadata(meta); }
            catch (Exception e) when (!ReplicaFailure.IsConnectionLost(e)) { /* the directory went away meanwhile */ }
        }

        private void ForgetDirsUnder(string rel)
        {
            _knownDirs.RemoveWhere(d => RelativePath.IsSameOrUnder(d, rel));
        }
    }
}
