using System;
using System.Collections.Generic;
using System.Linq;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Engine.Planning
{
    /// <summary>
    /// THE planner: the initial sync, Rescans, event batches, the service and one-shot syncs all come through here.
    /// It turns hints into actions by comparing the source as it is now (through a held, no-follow directory
    /// handle) with the replica as it is now. The one delete rule: a replica entry is deleted only when the source
    /// confirms it is gone — its parent was listed without error, or its parent is a directory and lstat says the
    /// entry does not exist. Any error reading a source directory suppresses deletes below it and is reported.
    /// Excluded names are never mirrored and never deleted. Plans are ordered: in each directory extraneous and
    /// kind-changed entries go first, parents before children, and directory metadata last, deepest first.
    /// </summary>
    public sealed class Planner
    {
        private readonly DirectoryHandle _source;
        private readonly IReplica _replica;
        private readonly GlobFilter _exclude;
        private readonly HardLinkIndex _links;
        private readonly EntryComparer _comparer;

        private readonly bool _delete;
        private readonly bool _canCreateSpecial;

        /// <param name="viaRsync">The session also has the host's rsync, which makes fifos and devices (as root) and sets link times.</param>
        public Planner(DirectoryHandle source, IReplica replica, GlobFilter exclude, HardLinkIndex links = null, bool delete = true, bool viaRsync = false)
        {
            _delete = delete;
            _canCreateSpecial = replica.CanCreateSpecial || (viaRsync && replica.CanSetOwner);
            _source = source;
            _replica = replica;
            _exclude = Versions.VersionArea.Reserve(exclude); // never mirrored, compared or deleted, whoever plans
            _links = links ?? new HardLinkIndex();
            _comparer = new EntryComparer(replica.CanSetOwner, replica.TimeResolutionNanos, linkTimes: viaRsync || replica.TransportName == "Local",
                times32Bit: replica.TimesAre32Bit);
        }

        /// <summary>
        /// Renames the replica can do instead of copying, each proven: the source no longer has the old path (its
        /// parent is a directory and lstat says absent), the new path holds an entry of the same kind, size, time
        /// (or link target) as the replica's old one, and the replica's new name is free or a non-directory.
        /// The caller runs these first and then plans the compare, which checks the moved entry and its subtree.
        /// </summary>
        public List<PlannedAction> PlanRenames(IEnumerable<SyncHint> hints)
        {
            var renames = new List<PlannedAction>();
            var claimed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var h in hints)
            {
                if (h.RenamedFrom == null || h.RenamedFrom == h.Path || h.Path.Length == 0 || h.RenamedFrom.Length == 0) continue;
                if (_exclude.IsExcluded(h.Path) || _exclude.IsExcluded(h.RenamedFrom)) continue;
                if (RelativePath.IsSameOrUnder(h.Path, h.RenamedFrom) || RelativePath.IsSameOrUnder(h.RenamedFrom, h.Path)) continue;
                if (!claimed.Add(h.RenamedFrom) || !claimed.Add(h.Path)) continue;
                try
                {
                    if (!SourceConfirmsGone(h.RenamedFrom)) continue;
                    var s = _source.Stat(h.Path);
                    var oldOnReplica = _replica.Stat(h.RenamedFrom);
                    if (s == null || oldOnReplica == null || s.Kind != oldOnReplica.Kind) continue;
                    if (!SameObject(s, oldOnReplica)) continue;
                    var newOnReplica = _replica.Stat(h.Path);
                    if (newOnReplica != null && newOnReplica.Kind == EntryKind.Directory) continue;
                    var parent = RelativePath.Parent(h.Path);
                    if (parent.Length > 0 && _replica.Stat(parent)?.Kind != EntryKind.Directory) continue;
                    renames.Add(new PlannedAction(ActionKind.Rename, h.Path, s, oldOnReplica, h.RenamedFrom));
                }
                catch (Exception) { /* unsure: the compare copies the new path and deletes the old one */ }
            }
            return renames;
        }

        private bool SameObject(FileMeta s, FileMeta r)
        {
            switch (s.Kind)
            {
                case EntryKind.File: return s.Size == r.Size && _comparer.SameTime(s, r);
                case EntryKind.Symlink: return r.LinkTarget == null || r.LinkTarget == s.LinkTarget;
                case EntryKind.Directory: return true; // its subtree is compared after the move
                default: return false;
            }
        }

        /// <summary>The source's own word that <paramref name="rel"/> is gone: its parent is a directory and it is absent.</summary>
        private bool SourceConfirmsGone(string rel)
        {
            var parent = RelativePath.Parent(rel) ?? "";
            var p = _source.Stat(parent);
            return p != null && p.Kind == EntryKind.Directory && _source.Stat(rel) == null;
        }

        /// <summary>Compares what the hints name and returns the actions that make the replica equal.</summary>
        public Plan Plan(IEnumerable<SyncHint> hints)
        {
            var run = new Run(this);
            var list = hints.ToList();
            foreach (var h in list)
            {
                if (h.ContentChanged) run.ForceContent.Add(RelativePath.Normalize(h.Path));
                if (h.ChangedSince != null) run.NoteChangedSince(RelativePath.Normalize(h.Path), h.ChangedSince.Value);
            }
            // Shallow paths first: a subtree compare then covers the hints below it.
            list.Sort((a, b) =>
            {
                int c = Depth(a.Path).CompareTo(Depth(b.Path));
                return c != 0 ? c : RelativePath.Utf8Order.Compare(a.Path, b.Path);
            });
            run.PrefetchReplicaListings(list);
            for (int i = 0; i < list.Count; i++)
                run.Hint(RelativePath.Normalize(list[i].Path), list[i].Subtree);
            run.Finish();
            return run.Result;
        }

        private static int Depth(string p) => p.Length == 0 ? 0 : p.Count(c => c == '/') + 1;

        /// <summary>The state of one planning pass: what was compared already, and replica stats taken in it.</summary>
        private sealed class Run
        {
            private readonly Planner _p;
            private readonly HashSet<string> _subtreesDone = new HashSet<string>(StringComparer.Ordinal);
            private readonly HashSet<string> _entriesDone = new HashSet<string>(StringComparer.Ordinal);
            private readonly Dictionary<string, FileMeta> _sourceStats = new Dictionary<string, FileMeta>(StringComparer.Ordinal);
            private readonly Dictionary<string, FileMeta> _replicaStats = new Dictionary<string, FileMeta>(StringComparer.Ordinal);
            // Directories whose metadata must be (re)set after their contents: path -> (source meta, shown to the user?)
            private readonly Dictionary<string, (FileMeta Meta, FileMeta Replica, bool Visible)> _dirMeta = new Dictionary<string, (FileMeta, FileMeta, bool)>(StringComparer.Ordinal);
            private readonly HashSet<string> _touchedDirs = new HashSet<string>(StringComparer.Ordinal);
            private readonly Queue<string> _extraEntries = new Queue<string>();
            private readonly List<FileMeta> _linksToFind = new List<FileMeta>();

            public Run(Planner p) { _p = p; }

            public Plan Result { get; } = new Plan();
            public HashSet<string> ForceContent { get; } = new HashSet<string>(StringComparer.Ordinal);
            // Subtrees whose hints were folded or lost: path -> ctime (Unix ns) from which their files count as written.
            private readonly Dictionary<string, long> _changedSince = new Dictionary<string, long>(StringComparer.Ordinal);

            public void NoteChangedSince(string path, DateTime utc)
            {
                long ns = (utc.ToUniversalTime() - DateTime.UnixEpoch).Ticks * 100;
                if (!_changedSince.TryGetValue(path, out var was) || ns < was) _changedSince[path] = ns;
            }

            /// <summary>Written as far as we know: an event said so, or its ctime falls in a window whose events were folded or lost.</summary>
            private bool ContentMayHaveChanged(string path, FileMeta s)
            {
                if (ForceContent.Contains(path)) return true;
                if (_changedSince.Count == 0 || s.ChangeTimeNs <= 0) return false;
                if (_changedSince.TryGetValue(path, out var own) && s.ChangeTimeNs >= own) return true;
                foreach (var a in RelativePath.Ancestors(path))
                    if (_changedSince.TryGetValue(a, out var since) && s.ChangeTimeNs >= since) return true;
                return _changedSince.TryGetValue("", out var root) && s.ChangeTimeNs >= root;
            }

            public void Hint(string path, bool subtree)
            {
                if (Covered(path, subtree)) return;
                try
                {
                    // The first ancestor that is not a directory on both sides is where the difference lies: compare
                    // from there down (create the missing parent with everything in it, or delete what the source lost).
                    foreach (var a in RelativePath.Ancestors(path))
                    {
                        if (_p._exclude.IsExcluded(a)) return;
                        var s = SourceStat(a);
                        var r = ReplicaStat(a);
                        if (s?.Kind != EntryKind.Directory || r?.Kind != EntryKind.Directory)
                        {
                            if (!Covered(a, true)) Entry(a, s, r, subtree: true);
                            return;
                        }
                    }
                    Entry(path, SourceStat(path), ReplicaStat(path), subtree);
                }
                catch (Exception e) when (!Sync.ReplicaFailure.IsConnectionLost(e))
                {
                    Error(path, e);
                }
            }

            private bool Covered(string path, bool subtree)
            {
                if (_subtreesDone.Contains(path)) return true;
                foreach (var a in RelativePath.Ancestors(path)) if (_subtreesDone.Contains(a)) return true;
                if (path.Length > 0 && _subtreesDone.Contains("")) return true;
                return !subtree && _entriesDone.Contains(path);
            }

            /// <summary>Entry hints sharing a directory past this count are served by one listing of it, not a stat each.</summary>
            private const int ListingThreshold = 8;

            /// <summary>
            /// A burst hints thousands of files in a few directories; over SFTP a stat is a round trip each, a listing
            /// one per directory. Listings taken here are of the same moment as the stats they replace (this plan).
            /// </summary>
            public void PrefetchReplicaListings(List<SyncHint> hints)
            {
                var perParent = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var h in hints)
                {
                    if (h.Path.Length == 0) continue;
                    var parent = RelativePath.Parent(RelativePath.Normalize(h.Path)) ?? "";
                    perParent[parent] = perParent.TryGetValue(parent, out var n) ? n + 1 : 1;
                }
                foreach (var kv in perParent)
                {
                    if (kv.Value < ListingThreshold) continue;
                    List<FileMeta> listing;
                    try { listing = _p._replica.List(kv.Key); }
                    catch (Exception e) when (!Sync.ReplicaFailure.IsConnectionLost(e)) { continue; } // absent or refused: stat one by one
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var m in listing) { _replicaStats[m.RelativePath] = m; seen.Add(m.RelativePath); }
                    foreach (var h in hints)
                    {
                        var path = RelativePath.Normalize(h.Path);
                        if (path.Length > 0 && (RelativePath.Parent(path) ?? "") == kv.Key && !seen.Contains(path)) _replicaStats[path] = null;
                    }
                }
            }

            private FileMeta SourceStat(string rel)
            {
                if (!_sourceStats.TryGetValue(rel, out var m)) _sourceStats[rel] = m = _p._source.Stat(rel);
                return m;
            }

            private FileMeta ReplicaStat(string rel)
            {
                if (!_replicaStats.TryGetValue(rel, out var m)) _replicaStats[rel] = m = _p._replica.Stat(rel);
                return m;
            }

            /// <summary>Compares one entry; with <paramref name="subtree"/> (or a directory the replica lacks) everything below too.</summary>
            private void Entry(string path, FileMeta s, FileMeta r, bool subtree)
            {
                if (path.Length > 0 && _p._exclude.IsExcluded(path, (s ?? r) == null ? (bool?)null : (s ?? r).Kind == EntryKind.Directory)) return;
                if (!_entriesDone.Add(path))
                {
                    // Compared already as an entry; a directory may still need its contents compared.
                    if (subtree && s?.Kind == EntryKind.Directory && r?.Kind == EntryKind.Directory && !_subtreesDone.Contains(path))
                        Children(path, replicaExists: true);
                    return;
                }
                if (s == null)
                {
                    // Absent at the source. The caller has seen the parent as a directory (listing or lstat), so this is
                    // the source's own word that it is gone. The root itself is never deleted.
                    if (r != null && path.Length > 0 && _p._delete) DeleteExtraneous(r);
                    return;
                }
                if (path.Length > 0) Result.Compared.Add(path);
                if (s.Kind == EntryKind.File) _p._links.Note(s);
                if (s.IsSpecial && !_p._canCreateSpecial)
                {
                    if (r != null && r.Kind != s.Kind) Add(new PlannedAction(ActionKind.Delete, path, null, r));
                    if (r == null || r.Kind != s.Kind)
                        Result.Skipped.Add((path, $"a {s.Kind} cannot be made over {_p._replica.TransportName}; it is left out"));
                    return;
                }
                if (EntryComparer.KindsDiffer(s, r) && path.Length > 0)
                {
                    Add(new PlannedAction(ActionKind.Delete, path, null, r));
                    r = null;
                }
                bool force = s.Kind == EntryKind.File && ContentMayHaveChanged(path, s);
                var kind = _p._comparer.Compare(s, r, force);
                if (s.Kind == EntryKind.Directory)
                {
                    if (kind == ActionKind.MakeDirectory) Add(new PlannedAction(ActionKind.MakeDirectory, path, s, null));
                    if (r == null || kind == ActionKind.SetMetadata) _dirMeta[path] = (s, r, r != null);
                    if (subtree || r == null) Children(path, replicaExists: r != null);
                    return;
                }
                if (kind != null)
                    Add(new PlannedAction(kind.Value, path, s, r)
                    {
                        MetadataMatches = kind == ActionKind.CheckContent && r != null && !_p._comparer.MetadataDiffers(s, r),
                    });
                // Only a name that was (or may have been) written or chmodded says anything about the other names of its
                // inode: forcing them on every compare would replace replica names that share their inode for nothing,
                // and could break the replica's links apart (see PlanExecutor.MayShareInode).
                if (kind == null && !force) return;
                if (_p._links.NeedsSearch(s)) _linksToFind.Add(s);
                foreach (var other in _p._links.OtherNames(s))
                    if (!_entriesDone.Contains(other)) { ForceContent.Add(other); _extraEntries.Enqueue(other); }
            }

            private void Children(string dir, bool replicaExists)
            {
                _subtreesDone.Add(dir);
                List<FileMeta> source, replica;
                try { source = _p._source.List(dir); }
                catch (Exception e) when (dir.Length > 0 && PathRace.Is(e))
                {
                    // Gone, or no longer a directory, since its parent was listed: a change in flight, not a failure
                    // (rsync's "vanished"). Nothing below is compared or deleted now; its own event brings the next plan.
                    Result.Skipped.Add((dir, "changed while it was being listed; compared again at its next change"));
                    return;
                }
                catch (Exception e)
                {
                    // Unknown source contents: compare nothing below, delete nothing below.
                    Result.SourceListingFailed = true;
                    Error(dir, e);
                    return;
                }
                try { replica = replicaExists ? _p._replica.List(dir) : new List<FileMeta>(); }
                catch (Exception e) when (!Sync.ReplicaFailure.IsConnectionLost(e))
                {
                    Error(dir, e);
                    return;
                }
                if (dir.Length == 0) Result.WholeTree = true;
                Result.ReplicaEntriesListed += replica.Count;
                var sourceNames = new HashSet<string>(StringComparer.Ordinal);
                foreach (var s in source) sourceNames.Add(s.RelativePath);
                var replicaByPath = new Dictionary<string, FileMeta>(StringComparer.Ordinal);
                foreach (var r in replica)
                {
                    replicaByPath[r.RelativePath] = r;
                    // Extraneous: the listing above is the source's word that it is gone.
                    if (sourceNames.Contains(r.RelativePath)) continue;
                    // A temp name of ours the source lacks is what an interrupted transfer (a kill, a lost link) left:
                    // it is removed whatever the delete setting and excludes say, because no user put it there.
                    if (Platform.DirectoryHandle.IsTempName(RelativePath.Name(r.RelativePath)) && r.Kind != EntryKind.Directory)
                        Add(new PlannedAction(ActionKind.Delete, r.RelativePath, null, r));
                    else if (_p._delete && !_p._exclude.IsExcluded(r.RelativePath, r.Kind == EntryKind.Directory))
                    {
                        try { DeleteExtraneous(r); }
                        catch (Exception e) when (!Sync.ReplicaFailure.IsConnectionLost(e)) { Error(r.RelativePath, e); }
                    }
                }
                foreach (var s in source)
                {
                    replicaByPath.TryGetValue(s.RelativePath, out var r);
                    try { Entry(s.RelativePath, s, r, subtree: true); }
                    catch (Exception e) when (!Sync.ReplicaFailure.IsConnectionLost(e)) { Error(s.RelativePath, e); }
                }
            }

            /// <summary>
            /// Deletes a replica entry the source lacks, but, as rsync's --delete does, never the excluded names inside
            /// it: a directory that holds one stays (with the directories leading to it) and only the rest of it goes.
            /// </summary>
            private void DeleteExtraneous(FileMeta r)
            {
                var partial = DeletesKeepingExcluded(r);
                if (partial == null) Add(new PlannedAction(ActionKind.Delete, r.RelativePath, null, r));
                else foreach (var a in partial) Add(a);
            }

            /// <summary>The deletes that empty directory <paramref name="r"/> of all but its excluded names; null when
            /// it holds none (then it goes whole, in one delete).</summary>
            private List<PlannedAction> DeletesKeepingExcluded(FileMeta r)
            {
                if (r.Kind != EntryKind.Directory || !_p._exclude.MayExcludeBelow(r.RelativePath)) return null;
                bool keeps = false;
                var deletes = new List<PlannedAction>();
                foreach (var c in _p._replica.List(r.RelativePath))
                {
                    if (_p._exclude.IsExcluded(c.RelativePath, c.Kind == EntryKind.Directory)) { keeps = true; continue; }
                    var inner = DeletesKeepingExcluded(c);
                    if (inner == null) deletes.Add(new PlannedAction(ActionKind.Delete, c.RelativePath, null, c));
                    else { keeps = true; deletes.AddRange(inner); }
                }
                return keeps ? deletes : null;
            }

            private void Add(PlannedAction a)
            {
                Result.Actions.Add(a);
                // A non-directory's metadata may be applied by replacing it (when it may share its inode with another
                // name: see PlanExecutor), which moves its directory's time as any new entry does.
                if (a.Kind != ActionKind.SetMetadata || !a.IsDirectory) _touchedDirs.Add(RelativePath.Parent(a.RelativePath) ?? "");
            }

            private void Error(string path, Exception e) => Result.Errors.Add((path, e));

            /// <summary>Other names of hard-linked files, then directory metadata after all contents, deepest first.</summary>
            public void Finish()
            {
                if (_linksToFind.Count > 0 && !_subtreesDone.Contains(""))
                {
                    // A hard-linked file changed and some of its names are unknown (linked since the last scan): only a
                    // whole-tree compare finds them. Once per inode and link count.
                    foreach (var m in _linksToFind) _p._links.MarkSearched(m);
                    Hint("", subtree: true);
                }
                while (_extraEntries.Count > 0) Hint(_extraEntries.Dequeue(), false);
                foreach (var dir in _touchedDirs)
                {
                    if (_dirMeta.ContainsKey(dir) || _p._exclude.IsExcluded(dir) && dir.Length > 0) continue;
                    FileMeta s;
                    try { s = SourceStat(dir); } catch (Exception) { continue; }
                    if (s != null && s.Kind == EntryKind.Directory) _dirMeta[dir] = (s, null, false);
                }
                foreach (var d in _dirMeta.OrderByDescending(kv => Depth(kv.Key)).ThenBy(kv => kv.Key, RelativePath.Utf8Order))
                    Result.Actions.Add(new PlannedAction(ActionKind.SetMetadata, d.Key, d.Value.Meta, d.Value.Replica, quiet: !d.Value.Visible));
            }
        }
    }
}
