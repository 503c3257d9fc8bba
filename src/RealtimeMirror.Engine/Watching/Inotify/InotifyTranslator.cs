using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using static RealtimeMirror.Engine.Platform.Native.InotifyMask;

namespace RealtimeMirror.Engine.Watching.Inotify
{
    /// <summary>
    /// Turns inotify records into RawChanges and keeps the watch set in step with the tree: new and moved-in
    /// directories get watches, renamed ones have their paths rewritten, moved-out ones lose theirs. The only
    /// I/O here is adding watches for directories that appear. Owned by the reader thread.
    /// </summary>
    internal sealed class InotifyTranslator
    {
        private readonly InotifyWatches _watches;
        private readonly GlobFilter _exclude;
        // A rename can move a directory in or out of a pattern with '/' by a change of an ancestor's name.
        private readonly bool _pathPatterns;
        private readonly ConcurrentQueue<RawChange> _sink;
        // IN_MOVED_FROM waiting for the IN_MOVED_TO with its cookie (usually the very next record), with the watches
        // the directory had then: only those move or go, not those of a directory made meanwhile under the old name.
        private readonly List<(uint Cookie, int ParentWd, string Path, bool IsDir, DateTime At, List<int> Wds)> _pendingFrom = new List<(uint, int, string, bool, DateTime, List<int>)>();

        public InotifyTranslator(InotifyWatches watches, GlobFilter exclude, ConcurrentQueue<RawChange> sink)
        {
            _watches = watches;
            _exclude = exclude;
            _pathPatterns = exclude.Patterns.Any(p => p.TrimEnd('/').IndexOf('/') >= 0);
            _sink = sink;
        }

        /// <summary>Set when the root itself went away (why, for the message); nothing is reported after that.</summary>
        public string RootGone { get; private set; }
        /// <summary>IN_Q_OVERFLOW records seen since the caller last reset it.</summary>
        public int Overflows;
        /// <summary>Anything queued since the caller last reset it (then the pump must be woken).</summary>
        public bool Enqueued;

        public bool HasPendingMoves => _pendingFrom.Count > 0;
        public DateTime OldestPendingMove => _pendingFrom.Count > 0 ? _pendingFrom[0].At : DateTime.MaxValue;

        public void Handle(in InotifyEvent e, DateTime now)
        {
            if (RootGone != null) return;
            uint m = e.Mask;
            if ((m & IN_Q_OVERFLOW) != 0)
            {
                // Any move half may be lost: the caller resyncs the watch set and the Rescan covers the tree.
                FlushPendingMoves(now);
                Overflows++;
                Emit(ChangeType.Rescan, "", true, now);
                return;
            }
            // An unknown wd is a watch already removed (its directory moved out): nothing current to say about it.
            if (!_watches.Map.TryGetPath(e.Wd, out var dir)) return;
            if ((m & IN_IGNORED) != 0)
            {
                _watches.Map.Remove(e.Wd);
                if (dir.Length == 0) RootGone = "is no longer watched (removed or unmounted)";
                return;
            }
            if (e.NameLength == 0)
            {
                // About a watched directory itself. Its parent reports the same by name, so only the root's matter.
                if (dir.Length == 0 && (m & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) != 0)
                    RootGone = (m & IN_MOVE_SELF) != 0 ? "was moved" : (m & IN_UNMOUNT) != 0 ? "was unmounted" : "was removed";
                return;
            }
            var rel = RelativePath.Combine(dir, PathEncoding.FromBytes(e.Buffer, e.NameOffset, e.NameLength));
            bool isDir = (m & IN_ISDIR) != 0;
            // rename(2) queues its two halves while it holds both directories locked, so no other change of names
            // in the directory a name left can come between them (writes and chmods of its files can: they do not
            // take that lock). Such a record from there means the name left the tree: settling it now keeps the
            // kernel's order, so its watches go before a directory arriving under that name gets its own.
            if (_pendingFrom.Count > 0 && (m & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)) != 0)
            {
                uint c = e.Cookie;
                if ((m & IN_MOVED_TO) == 0 || !_pendingFrom.Exists(p => p.Cookie == c)) FlushPendingMoves(now, e.Wd);
            }
            if ((m & IN_MOVED_FROM) != 0) { _pendingFrom.Add((e.Cookie, e.Wd, rel, isDir, now, isDir ? _watches.WatchesAt(rel) : null)); return; }
            if ((m & IN_MOVED_TO) != 0)
            {
                uint cookie = e.Cookie;
                int i = _pendingFrom.FindIndex(p => p.Cookie == cookie);
                if (i < 0) { Arrived(rel, isDir, now); return; } // moved in from outside the tree
                var from = _pendingFrom[i];
                _pendingFrom.RemoveAt(i);
                Renamed(from.Path, rel, isDir, now, from.Wds);
                return;
            }
            if ((m & IN_CREATE) != 0) { Arrived(rel, isDir, now); return; }
            if ((m & IN_DELETE) != 0)
            {
                // Its watches end with IN_IGNORED; a subtree on the rescan timer is gone with it.
                if (isDir) _watches.Unwatched.RemoveSubtree(rel);
                Report(ChangeType.Deleted, rel, isDir, now);
                return;
            }
            // A close after writing means the writer is done: emit at once instead of waiting out the settle window.
            if ((m & IN_CLOSE_WRITE) != 0) Report(ChangeType.Changed, rel, isDir, now, complete: true);
            else if ((m & IN_MODIFY) != 0) Report(ChangeType.Changed, rel, isDir, now);
            if ((m & IN_ATTRIB) != 0) Report(ChangeType.AttributeChanged, rel, isDir, now);
        }

        /// <summary>Moves whose other half did not come (all, or those out of one directory): they left the tree.</summary>
        public void FlushPendingMoves(DateTime now, int? fromWd = null)
        {
            var left = fromWd == null ? _pendingFrom.ToList() : _pendingFrom.Where(p => p.ParentWd == fromWd).ToList();
            if (left.Count == 0) return;
            _pendingFrom.RemoveAll(p => fromWd == null || p.ParentWd == fromWd);
            foreach (var p in left)
            {
                // Its watches would go on reporting the moved-away directory under paths that are not in the tree.
                if (p.IsDir) _watches.UnwatchTree(p.Path, p.Wds);
                Report(ChangeType.Deleted, p.Path, p.IsDir, now);
            }
        }

        /// <summary>
        /// Created, or moved in from outside. The hint for a new directory makes the planner compare all of it, so
        /// what was inside before its watch existed needs no events of its own.
        /// </summary>
        private void Arrived(string rel, bool isDir, DateTime now)
        {
            if (_exclude.IsExcluded(rel, isDir)) return;
            Report(ChangeType.Created, rel, isDir, now);
            if (isDir) _watches.WatchTree(rel);
        }

        private void Renamed(string from, string to, bool isDir, DateTime now, List<int> wds)
        {
            if (isDir) _watches.MoveTree(from, to, wds); // the kernel's watches moved with the inodes
            bool fromOut = _exclude.IsExcluded(from, isDir), toOut = _exclude.IsExcluded(to, isDir);
            if (fromOut && toOut) return;
            if (fromOut)
            {
                // e.g. an editor's temp file saved over the real name, or a directory renamed out of an excluded name.
                Report(ChangeType.Created, to, isDir, now);
                if (isDir) _watches.WatchTree(to);
                return;
            }
            if (toOut)
            {
                Report(ChangeType.Deleted, from, isDir, now);
                if (isDir) _watches.UnwatchTree(to, wds);
                return;
            }
            Emit(ChangeType.Renamed, to, isDir, now, from);
            if (!isDir) return;
            // A path pattern may match below it now where it did not before: walk it all.
            if (_pathPatterns) _watches.WatchTree(to);
            else _watches.EnsureWatchedAfterRename(from, to);
        }

        private void Report(ChangeType kind, string rel, bool isDir, DateTime now, bool complete = false)
        {
            if (_exclude.IsExcluded(rel, isDir)) return;
            Emit(kind, rel, isDir, now, complete: complete);
        }

        private void Emit(ChangeType kind, string rel, bool isDir, DateTime now, string oldRel = null, bool complete = false)
        {
            _sink.Enqueue(new RawChange(kind, rel, isDir, now, oldRel, complete));
            Enqueued = true;
        }
    }
}
