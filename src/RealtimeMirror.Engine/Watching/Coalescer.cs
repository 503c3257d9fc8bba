using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>
    /// Folds raw changes per path over a settle window. A Dictionary finds a path's pending change and a linked
    /// list keeps them in last-touched order, so each raw change is O(1) and taking the settled ones is
    /// O(settled): they are all at the head. Only directory deletes and renames look at other entries (their
    /// children's pending changes must follow them). Not thread-safe: one pump thread owns it.
    ///
    /// Rules: Created+Changed = Created; Created+Deleted = nothing; Changed+Deleted = Deleted;
    /// Deleted+Created = Changed; rename chains a->b->c = a->c; rename of a new path = Created at the new name;
    /// Renamed+Deleted = Deleted at the old name; a Rescan absorbs everything pending below it. A child is never
    /// emitted while its parent directory's Created or Renamed is still settling; deletes go last in each batch.
    /// </summary>
    public sealed class Coalescer
    {
        private sealed class Pending
        {
            public string Path;
            public string OldPath;
            public ChangeType Kind;
            public bool IsDirectory;
            public DateTime LastTouched;
            public LinkedListNode<Pending> Node;
        }

        private readonly Dictionary<string, Pending> _byPath = new Dictionary<string, Pending>(StringComparer.Ordinal);
        private readonly LinkedList<Pending> _order = new LinkedList<Pending>();
        private readonly TimeSpan _settle;

        public Coalescer(TimeSpan settle) { _settle = settle; }

        public int Count => _byPath.Count;

        public void Add(RawChange c)
        {
            switch (c.Kind)
            {
                case ChangeType.Rescan: AddRescan(c); break;
                case ChangeType.Renamed when c.OldRelativePath != null: AddRename(c); break;
                case ChangeType.Deleted: AddDelete(c); break;
                case ChangeType.Created: AddCreate(c); break;
                default: AddChange(c); break;
            }
        }

        private void AddCreate(RawChange c)
        {
            bool isDir = c.IsDirectory ?? false;
            if (_byPath.TryGetValue(c.RelativePath, out var p))
            {
                // Gone and back: the replica has an old version (or another kind) there, so it is a change.
                if (p.Kind == ChangeType.Deleted) p.Kind = ChangeType.Changed;
                else if (p.Kind == ChangeType.AttributeChanged) p.Kind = ChangeType.Changed;
                p.IsDirectory = isDir;
                Touch(p, c.Time);
                return;
            }
            Insert(c.RelativePath, null, ChangeType.Created, isDir, c.Time);
        }

        private void AddChange(RawChange c)
        {
            bool isDir = c.IsDirectory ?? false;
            var kind = c.Kind == ChangeType.AttributeChanged || isDir ? ChangeType.AttributeChanged : ChangeType.Changed;
            if (_byPath.TryGetValue(c.RelativePath, out var p))
            {
                if (p.Kind == ChangeType.Deleted) p.Kind = ChangeType.Changed;
                else if (p.Kind == ChangeType.AttributeChanged && kind == ChangeType.Changed) p.Kind = ChangeType.Changed;
                Touch(p, c.Time);
                return;
            }
            Insert(c.RelativePath, null, kind, isDir, c.Time);
        }

        private void AddDelete(RawChange c)
        {
            bool isDir = c.IsDirectory ?? false;
            if (_byPath.TryGetValue(c.RelativePath, out var p))
            {
                isDir |= p.IsDirectory;
                Remove(p);
                if (isDir) RemoveBelow(c.RelativePath); // a recursive delete covers whatever was pending inside
                if (p.Kind == ChangeType.Created) return; // born and gone within the window: the replica never saw it
                if (p.Kind == ChangeType.Renamed)
                {
                    // The replica still has it under the old name: delete that.
                    Insert(p.OldPath, null, ChangeType.Deleted, isDir, c.Time);
                    return;
                }
            }
            else if (isDir || HasPendingBelow(c.RelativePath))
            {
                isDir = true;
                RemoveBelow(c.RelativePath);
            }
            Insert(c.RelativePath, null, ChangeType.Deleted, isDir, c.Time);
        }

        private void AddRename(RawChange c)
        {
            var from = c.OldRelativePath;
            var to = c.RelativePath;
            bool isDir = c.IsDirectory ?? false;
            var kind = ChangeType.Renamed;
            var origin = from;
            if (_byPath.TryGetValue(from, out var p))
            {
                Remove(p);
                isDir |= p.IsDirectory;
                if (p.Kind == ChangeType.Created) kind = ChangeType.Created;       // new, then renamed: just new at the final name
                else if (p.Kind == ChangeType.Renamed) origin = p.OldPath;          // a->b then b->c = a->c
            }
            if (_byPath.TryGetValue(to, out var overwritten)) Remove(overwritten);  // the rename replaces whatever was there
            if (kind == ChangeType.Renamed && origin == to) kind = ChangeType.Changed; // a->b->a: back home, maybe edited
            Insert(to, kind == ChangeType.Renamed ? origin : null, kind, isDir, c.Time);
            if (isDir) MoveBelow(from, to, c.Time);
        }

        private void AddRescan(RawChange c)
        {
            RemoveBelow(c.RelativePath);
            if (_byPath.TryGetValue(c.RelativePath, out var p)) Remove(p);
            Insert(c.RelativePath, null, ChangeType.Rescan, true, c.Time);
        }

        /// <summary>Settled events in emission order; <paramref name="now"/> is the caller's clock (tests pass a fake one).</summary>
        public List<(string Path, string OldPath, ChangeType Kind, bool IsDirectory, DateTime Time)> TakeSettled(DateTime now)
        {
            // Settled entries are all at the head of the last-touched order.
            var settled = new List<Pending>();
            for (var node = _order.First; node != null && now - node.Value.LastTouched >= _settle; node = node.Next) settled.Add(node.Value);
            var ready = new List<(string, string, ChangeType, bool, DateTime)>();
            var deletes = new List<(string, string, ChangeType, bool, DateTime)>();
            foreach (var p in settled)
            {
                if (!_byPath.TryGetValue(p.Path, out var current) || current != p) continue; // emitted already, with a child
                if (ParentStillSettling(p.Path, now)) continue;
                // A parent directory touched again after its child sits later in the order: it still goes first.
                foreach (var ancestor in RelativePath.Ancestors(p.Path))
                    if (_byPath.TryGetValue(ancestor, out var a) && IsCreation(a)) Emit(a, ready, deletes);
                Emit(p, ready, deletes);
            }
            ready.AddRange(deletes);
            return ready;
        }

        private void Emit(Pending p, List<(string, string, ChangeType, bool, DateTime)> ready, List<(string, string, ChangeType, bool, DateTime)> deletes)
        {
            Remove(p);
            (p.Kind == ChangeType.Deleted ? deletes : ready).Add((p.Path, p.OldPath, p.Kind, p.IsDirectory, p.LastTouched));
        }

        private static bool IsCreation(Pending p) => p.Kind == ChangeType.Created || p.Kind == ChangeType.Renamed || p.Kind == ChangeType.Rescan;

        /// <summary>True when an ancestor's Created/Renamed is pending and not yet settled: the child must wait for it.</summary>
        private bool ParentStillSettling(string path, DateTime now)
        {
            foreach (var ancestor in RelativePath.Ancestors(path))
                if (_byPath.TryGetValue(ancestor, out var a) && IsCreation(a) && now - a.LastTouched < _settle)
                    return true;
            return false;
        }

        private void Insert(string path, string oldPath, ChangeType kind, bool isDir, DateTime time)
        {
            var p = new Pending { Path = path, OldPath = oldPath, Kind = kind, IsDirectory = isDir, LastTouched = time };
            p.Node = _order.AddLast(p);
            _byPath[path] = p;
        }

        private void Touch(Pending p, DateTime time)
        {
            p.LastTouched = time;
            _order.Remove(p.Node);
            _order.AddLast(p.Node);
        }

        private void Remove(Pending p)
        {
            _order.Remove(p.Node);
            _byPath.Remove(p.Path);
        }

        private bool HasPendingBelow(string dir)
        {
            var prefix = dir + "/";
            foreach (var key in _byPath.Keys) if (key.StartsWith(prefix, StringComparison.Ordinal)) return true;
            return false;
        }

        private void RemoveBelow(string dir)
        {
            var victims = new List<Pending>();
            foreach (var p in _order) if (RelativePath.IsSameOrUnder(p.Path, dir) && p.Path != dir) victims.Add(p);
            foreach (var v in victims) Remove(v);
        }

        /// <summary>
        /// A directory moved: pending changes inside it now live under the new name, and must come after the
        /// directory's own rename (on the replica their old names exist only once the directory has moved).
        /// </summary>
        private void MoveBelow(string from, string to, DateTime time)
        {
            var moved = new List<Pending>();
            foreach (var p in _order)
                if (p.Path.StartsWith(from + "/", StringComparison.Ordinal)) moved.Add(p);
            foreach (var p in moved)
            {
                Remove(p);
                var newPath = to + p.Path.Substring(from.Length);
                var newOld = p.OldPath != null && RelativePath.IsSameOrUnder(p.OldPath, from) ? to + p.OldPath.Substring(from.Length) : p.OldPath;
                if (_byPath.TryGetValue(newPath, out var clash)) Remove(clash);
                Insert(newPath, newOld, p.Kind, p.IsDirectory, time > p.LastTouched ? time : p.LastTouched);
            }
        }
    }
}
