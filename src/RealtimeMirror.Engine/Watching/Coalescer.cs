using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Events;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>
    /// Folds raw changes per path into hints. Events are hints, not instructions (the planner compares source and
    /// replica as they are), so folding only has to keep every path that may have changed: no rule here drops a
    /// path, so no order of renames, deletes and re-creations can make a replica entry be forgotten.
    ///
    /// Each raw change is O(1): a Dictionary finds the path's pending entry; one linked list keeps last-touched order
    /// (settled entries sit at its head) and another first-touched order (overdue entries sit at its head). A path is
    /// emitted once nothing touched it for the settle window, or at the latest the maximum delay after its first
    /// unsent change, so a file written more often than the settle window still reaches the replica.
    ///
    /// The kind shown to users folds as: Created+Changed = Created; Deleted+Created = Changed; any+Deleted =
    /// Deleted; a rename gives a Renamed at the new name that remembers where the chain started (a->b->c = Renamed c
    /// from a, with b left as a Deleted hint; the Renamed hint itself covers a), and what was pending below a renamed
    /// directory moves with it. Not thread-safe: one pump thread owns it.
    /// </summary>
    public sealed class Coalescer
    {
        private sealed class Pending
        {
            public string Path;
            public string OldPath;
            public ChangeType Kind;
            public bool IsDirectory;
            public DateTime FirstTouched;
            public DateTime LastTouched;
            /// <summary>Emit at the next take: the writer closed the file. Such entries sit at the head of the last-touched order.</summary>
            public bool DueNow;
            public LinkedListNode<Pending> ByLast;
            public LinkedListNode<Pending> ByFirst;
        }

        private readonly Dictionary<string, Pending> _byPath = new Dictionary<string, Pending>(StringComparer.Ordinal);
        private readonly LinkedList<Pending> _byLast = new LinkedList<Pending>();
        private readonly LinkedList<Pending> _byFirst = new LinkedList<Pending>();
        private readonly TimeSpan _settle;
        private readonly TimeSpan _maxDelay;

        public Coalescer(TimeSpan settle, TimeSpan? maxDelay = null)
        {
            _settle = settle;
            _maxDelay = maxDelay ?? TimeSpan.FromSeconds(1);
            if (_maxDelay < _settle) _maxDelay = _settle;
        }

        public int Count => _byPath.Count;

        public void Add(RawChange c)
        {
            switch (c.Kind)
            {
                case ChangeType.Rescan: AddRescan(c); break;
                case ChangeType.Renamed when c.OldRelativePath != null: AddRename(c); break;
                case ChangeType.Deleted: Upsert(c.RelativePath, ChangeType.Deleted, c.IsDirectory, c.Time); break;
                case ChangeType.Created: Upsert(c.RelativePath, ChangeType.Created, c.IsDirectory, c.Time); break;
                case ChangeType.Changed when c.Complete && c.IsDirectory != true:
                    Upsert(c.RelativePath, ChangeType.Changed, c.IsDirectory, c.Time);
                    MarkDue(_byPath[c.RelativePath]);
                    break;
                default:
                    // The OS's "changed" on a directory is its attributes; a replaced directory shows as Deleted+Created.
                    bool attr = c.Kind == ChangeType.AttributeChanged || c.IsDirectory == true;
                    Upsert(c.RelativePath, attr ? ChangeType.AttributeChanged : ChangeType.Changed, c.IsDirectory, c.Time);
                    break;
            }
        }

        private void Upsert(string path, ChangeType kind, bool? isDir, DateTime time)
        {
            if (!_byPath.TryGetValue(path, out var p))
            {
                Insert(path, null, kind, isDir ?? false, time);
                return;
            }
            if (kind == ChangeType.Deleted) KeepOrigin(p, except: null);
            p.Kind = Fold(p.Kind, kind);
            if (isDir.HasValue) p.IsDirectory = isDir.Value;
            Touch(p, time);
        }

        private static ChangeType Fold(ChangeType was, ChangeType now)
        {
            switch (now)
            {
                case ChangeType.Deleted: return was == ChangeType.Rescan ? ChangeType.Rescan : ChangeType.Deleted;
                case ChangeType.Created: return was == ChangeType.Deleted ? ChangeType.Changed : was == ChangeType.AttributeChanged ? ChangeType.Created : was;
                case ChangeType.Changed:
                    return was == ChangeType.Deleted || was == ChangeType.AttributeChanged ? ChangeType.Changed : was;
                default: // AttributeChanged adds nothing to a stronger kind
                    return was == ChangeType.Deleted ? ChangeType.Changed : was;
            }
        }

        private void AddRename(RawChange c)
        {
            var from = c.OldRelativePath;
            var to = c.RelativePath;
            string origin = from;
            bool isDir = c.IsDirectory ?? false;
            _byPath.TryGetValue(from, out var p);
            if (p != null)
            {
                isDir |= p.IsDirectory;
                if (p.Kind == ChangeType.Renamed && p.OldPath != null) origin = p.OldPath; // a->b then b->c: the replica may still have a
                else if (p.Kind == ChangeType.Created) origin = null;                      // new within the window: nothing to rename on the replica
            }
            // The Renamed event names the old path, which is all the hint it needs. A pending entry at the old name
            // (b in a->b->c) stays as a Deleted hint: the replica may have had a b of its own. A plain a->b drops a's
            // pending entry instead: the rename's own hint at a does its job, and a Deleted a sent on its own (a
            // target may take it in a batch before the rename) would delete what the replica could have renamed.
            if (p != null && origin == from && p.Kind != ChangeType.Rescan) Remove(p);
            else if (p != null)
            {
                p.Kind = ChangeType.Deleted;
                p.OldPath = null;
                Touch(p, c.Time);
            }
            if (isDir) MoveChildren(from, to);
            bool backHome = origin == to;
            if (backHome) origin = null; // a->b->a: back home, maybe edited
            if (_byPath.TryGetValue(to, out var target))
            {
                KeepOrigin(target, except: origin);
                target.Kind = origin != null ? ChangeType.Renamed : ChangeType.Changed;
                target.OldPath = origin;
                target.IsDirectory = isDir;
                Touch(target, c.Time);
            }
            else Insert(to, origin, origin != null ? ChangeType.Renamed : backHome ? ChangeType.Changed : ChangeType.Created, isDir, c.Time);
        }

        /// <summary>Past this many pending paths a directory rename leaves its children's hints where they were (see MoveChildren).</summary>
        private const int MaxPendingToMove = 20_000;

        /// <summary>
        /// Pending changes below a renamed directory follow it: they name where the entries are now. Left at the old
        /// names, they would make a target delete the old directory (the source has it no more) before the rename
        /// reaches it, and send the whole subtree again. O(pending) per directory rename, so a huge backlog skips it:
        /// the old names are still correct hints, only dearer.
        /// </summary>
        private void MoveChildren(string from, string to)
        {
            if (_byPath.Count > MaxPendingToMove || Paths.RelativePath.IsSameOrUnder(to, from)) return; // (no directory moves into itself)
            List<Pending> moving = null;
            foreach (var kv in _byPath)
                if (Paths.RelativePath.IsUnder(kv.Key, from)) (moving ??= new List<Pending>()).Add(kv.Value);
            if (moving == null) return;
            foreach (var child in moving)
            {
                var movedPath = Paths.RelativePath.Moved(child.Path, from, to);
                if (_byPath.TryGetValue(movedPath, out var there))
                {
                    // Something was pending at the new name already (a deleted directory's old child): both hold.
                    there.Kind = there.Kind == ChangeType.Rescan || child.Kind == ChangeType.Rescan ? ChangeType.Rescan : ChangeType.Changed;
                    there.OldPath = null;
                    there.IsDirectory = child.IsDirectory;
                    Remove(child);
                    continue;
                }
                _byPath.Remove(child.Path);
                child.Path = movedPath;
                if (child.OldPath != null && Paths.RelativePath.IsUnder(child.OldPath, from))
                    child.OldPath = Paths.RelativePath.Moved(child.OldPath, from, to); // renamed inside the directory, then it moved
                _byPath[movedPath] = child;
            }
        }

        /// <summary>A pending rename is losing its old path (deleted, or renamed over): keep that path as a hint of its own.</summary>
        private void KeepOrigin(Pending p, string except)
        {
            if (p.Kind != ChangeType.Renamed || p.OldPath == null || p.OldPath == except) return;
            var origin = p.OldPath;
            p.OldPath = null;
            if (!_byPath.ContainsKey(origin)) Insert(origin, null, ChangeType.Deleted, p.IsDirectory, p.LastTouched);
        }

        private void AddRescan(RawChange c)
        {
            if (c.RelativePath.Length == 0)
            {
                // A whole-root compare covers every pending hint: drop them (the only fold that forgets, and it forgets
                // nothing). It keeps the time of the oldest change it stands for, from which the planner content-compares
                // files by ctime (SyncHint.ChangedSince), as the dropped hints would have.
                var since = c.Time;
                if (_byFirst.First != null && _byFirst.First.Value.FirstTouched < since) since = _byFirst.First.Value.FirstTouched;
                _byPath.Clear();
                _byLast.Clear();
                _byFirst.Clear();
                Insert("", null, ChangeType.Rescan, true, since);
                return;
            }
            Upsert(c.RelativePath, ChangeType.Rescan, true, c.Time);
            _byPath[c.RelativePath].Kind = ChangeType.Rescan;
        }

        /// <summary>Settled or overdue hints; <paramref name="now"/> is the caller's clock (tests pass a fake one).</summary>
        public List<(string Path, string OldPath, ChangeType Kind, bool IsDirectory, DateTime Time)> TakeSettled(DateTime now)
        {
            var ready = new List<(string, string, ChangeType, bool, DateTime)>();
            while (_byLast.First != null && (_byLast.First.Value.DueNow || now - _byLast.First.Value.LastTouched >= _settle)) Emit(_byLast.First.Value, ready);
            while (_byFirst.First != null && now - _byFirst.First.Value.FirstTouched >= _maxDelay) Emit(_byFirst.First.Value, ready);
            return ready;
        }

        /// <summary>
        /// Every pending hint now, settled or not, in first-touched order (a new directory before what was written
        /// into it): the drain before a shutdown, where waiting out the settle window would only risk losing them.
        /// </summary>
        public List<(string Path, string OldPath, ChangeType Kind, bool IsDirectory, DateTime Time)> TakeAll()
        {
            var ready = new List<(string, string, ChangeType, bool, DateTime)>(_byPath.Count);
            while (_byFirst.First != null) Emit(_byFirst.First.Value, ready);
            return ready;
        }

        /// <summary>When the next hint becomes due (settle or maximum delay), for the pump's sleep; null when none is pending.</summary>
        public DateTime? NextDue()
        {
            if (_byLast.First == null) return null;
            if (_byLast.First.Value.DueNow) return DateTime.MinValue;
            var settle = _byLast.First.Value.LastTouched + _settle;
            var overdue = _byFirst.First.Value.FirstTouched + _maxDelay;
            return settle < overdue ? settle : overdue;
        }

        private void Emit(Pending p, List<(string, string, ChangeType, bool, DateTime)> ready)
        {
            // Users read the stream in order: a new (or moved-in) directory comes before what is inside it, even when
            // a closed file inside is due first. O(depth) per emitted hint.
            foreach (var ancestor in Paths.RelativePath.Ancestors(p.Path))
                if (_byPath.TryGetValue(ancestor, out var a) && (a.Kind == ChangeType.Created || a.Kind == ChangeType.Renamed || a.Kind == ChangeType.Rescan))
                    Emit(a, ready);
            Remove(p);
            ready.Add((p.Path, p.OldPath, p.Kind, p.IsDirectory, p.LastTouched));
        }

        private void Insert(string path, string oldPath, ChangeType kind, bool isDir, DateTime time)
        {
            var p = new Pending { Path = path, OldPath = oldPath, Kind = kind, IsDirectory = isDir, FirstTouched = time, LastTouched = time };
            p.ByLast = _byLast.AddLast(p);
            p.ByFirst = _byFirst.AddLast(p);
            _byPath[path] = p;
        }

        /// <summary>Due now: moved to the head of the last-touched order, so the head stays the part that is due.</summary>
        private void MarkDue(Pending p)
        {
            p.DueNow = true;
            _byLast.Remove(p.ByLast);
            _byLast.AddFirst(p.ByLast);
        }

        private void Touch(Pending p, DateTime time)
        {
            p.DueNow = false;
            p.LastTouched = time;
            _byLast.Remove(p.ByLast);
            _byLast.AddLast(p.ByLast);
        }

        private void Remove(Pending p)
        {
            _byLast.Remove(p.ByLast);
            _byFirst.Remove(p.ByFirst);
            _byPath.Remove(p.Path);
        }
    }
}
