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
    internal sealed class InotifyTranslator : KernelTranslator
    {
        private readonly InotifyWatches _watches;
        // IN_MOVED_FROM waiting for the IN_MOVED_TO with its cookie (usually the very next record), with the watches
        // the directory had then: only those move or go, not those of a directory made meanwhile under the old name.
        private readonly List<(uint Cookie, int ParentWd, string Path, bool IsDir, DateTime At, List<int> Wds)> _pendingFrom = new List<(uint, int, string, bool, DateTime, List<int>)>();

        public InotifyTranslator(InotifyWatches watches, GlobFilter exclude, ConcurrentQueue<RawChange> sink)
            : base(exclude, sink) => _watches = watches;

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
                Overflowed(now);
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
            ReportContent(rel, isDir, now, closedAfterWrite: (m & IN_CLOSE_WRITE) != 0, modified: (m & IN_MODIFY) != 0, attributes: (m & IN_ATTRIB) != 0);
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

        protected override void WatchNewTree(string dir) => _watches.WatchTree(dir);

        private void Renamed(string from, string to, bool isDir, DateTime now, List<int> wds)
        {
            if (isDir) _watches.MoveTree(from, to, wds); // the kernel's watches moved with the inodes
            if (!ReportRename(from, to, isDir, now, forgetAt: dir => _watches.UnwatchTree(dir, wds))) return;
            // A path pattern may match below it now where it did not before: walk it all.
            if (_pathPatterns) _watches.WatchTree(to);
            else _watches.EnsureWatchedAfterRename(from, to);
        }
    }
}
