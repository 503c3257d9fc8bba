using System;
using System.Collections.Concurrent;
using System.Linq;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using static RealtimeMirror.Engine.Platform.Native.FanotifyMask;

namespace RealtimeMirror.Engine.Watching.Fanotify
{
    /// <summary>
    /// Turns fanotify events into RawChanges for one root and keeps the handle map in step with the tree: new and
    /// moved-in directories are mapped, renamed ones have their paths rewritten, moved-out ones are forgotten.
    /// Events of the rest of the filesystem are dropped here (their directory is not below the root). FAN_RENAME
    /// gives both names of a move in one event, so no pairing is needed; on kernels before 5.17 the two halves
    /// come apart and become a delete and a create. Owned by the reader thread.
    /// </summary>
    internal sealed class FanotifyTranslator : KernelTranslator
    {
        private readonly FanotifyTree _tree;

        public FanotifyTranslator(FanotifyTree tree, GlobFilter exclude, ConcurrentQueue<RawChange> sink)
            : base(exclude, sink) => _tree = tree;

        public void Handle(in FanotifyEvent e, DateTime now)
        {
            if (RootGone != null) return;
            ulong m = e.Mask;
            if ((m & FAN_Q_OVERFLOW) != 0)
            {
                Overflowed(now);
                return;
            }
            bool isDir = (m & FAN_ONDIR) != 0;
            // The object's own handle tells which directory moved or went, even where the map is behind.
            string target = isDir && e.Target.IsSet && (m & (FAN_RENAME | FAN_DELETE | FAN_MOVED_FROM)) != 0 ? e.Target.Key() : null;
            if ((m & FAN_RENAME) != 0)
            {
                if (!e.OldDir.IsSet || !e.NewDir.IsSet) return;
                var fromDir = DirectoryOf(e.OldDir, now);
                var toDir = DirectoryOf(e.NewDir, now);
                var from = fromDir == null ? null : RelativePath.Combine(fromDir, Name(e.OldDir));
                var to = toDir == null ? null : RelativePath.Combine(toDir, Name(e.NewDir));
                if (from != null && to != null) Renamed(from, to, isDir, target, now);
                else if (from != null) Left(from, isDir, target, now);   // moved out of the tree
                else if (to != null) Arrived(to, isDir, now);            // moved in from outside
                return;
            }
            if (!e.Dir.IsSet) return; // an unlinked file's last attribute change: its delete was the news
            var dir = DirectoryOf(e.Dir, now);
            if (dir == null) return;
            if (e.Dir.IsSelf)
            {
                // About a directory itself: its own removal or move (only the root has that mark), or its attributes.
                if (dir.Length == 0 && (m & (FAN_DELETE_SELF | FAN_MOVE_SELF)) != 0)
                {
                    RootGone = (m & FAN_MOVE_SELF) != 0 ? "was moved" : "was removed";
                    return;
                }
                // The root's own attributes are not reported, as with inotify (its parent is outside the tree).
                if ((m & FAN_ATTRIB) != 0 && dir.Length > 0) Report(ChangeType.AttributeChanged, dir, true, now);
                return;
            }
            var rel = RelativePath.Combine(dir, Name(e.Dir));
            // The kernel merges events about one name that wait unread into one event with all their bits, in
            // no order. With the object's handle in them, a create and a delete in one event are one object made and
            // removed again (a later one of that name is another event); without it only the tree can say.
            const ulong Came = FAN_CREATE | FAN_MOVED_TO, Went = FAN_DELETE | FAN_MOVED_FROM;
            if ((m & Came) != 0 && (m & Went) != 0)
            {
                bool there = !e.Target.IsSet && Exists(rel);
                if (!there) { Left(rel, isDir, target, now); return; }
                Left(rel, isDir, null, now);
                Arrived(rel, isDir, now);
                return;
            }
            if ((m & Went) != 0) { Left(rel, isDir, target, now); return; }
            if ((m & Came) != 0) Arrived(rel, isDir, now);
            ReportContent(rel, isDir, now, closedAfterWrite: (m & FAN_CLOSE_WRITE) != 0, modified: (m & FAN_MODIFY) != 0, attributes: (m & FAN_ATTRIB) != 0);
        }

        private bool Exists(string rel)
        {
            try { return System.IO.File.Exists(RelativePath.ToFull(_tree.RootPath, rel)) || System.IO.Directory.Exists(RelativePath.ToFull(_tree.RootPath, rel)); }
            catch (Exception) { return true; } // unsure: a create hint makes the planner look
        }

        private static string Name(in FanotifyHandle h) => PathEncoding.FromBytes(h.Buffer, h.NameOffset, h.NameLength);

        /// <summary>
        /// The directory's path below the root, or null when it is not in the tree. One the map does not know but
        /// that is in the tree was missed (its creation read after it moved on, say): it is mapped now, and what it
        /// holds is rescanned, since nothing said what happened in it before.
        /// </summary>
        private string DirectoryOf(in FanotifyHandle h, DateTime now)
        {
            var key = h.Key();
            if (_tree.Map.TryGetPath(key, out var dir)) return dir;
            if (!_tree.TryLookUp(h, key, out dir)) return null;
            _tree.MapTree(dir);
            Emit(ChangeType.Rescan, dir, true, now);
            return dir;
        }

        protected override void WatchNewTree(string dir) => _tree.MapTree(dir);

        /// <summary>Deleted, or moved out of the tree (the directory's own handle, where known, says which one went).</summary>
        private void Left(string rel, bool isDir, string target, DateTime now)
        {
            if (isDir)
            {
                if (target != null) _tree.UnmapKey(target); // not mapped: what the map has at that name is another directory
                else _tree.Unmap(rel);
            }
            Report(ChangeType.Deleted, rel, isDir, now);
        }

        private void Renamed(string from, string to, bool isDir, string target, DateTime now)
        {
            // By its own handle the map moves exactly that directory, wherever it had it (it may be behind).
            bool moved = false;
            if (isDir)
            {
                if (target != null) moved = _tree.MoveKey(target, to);
                else { _tree.MoveTree(from, to); moved = true; }
            }
            if (!ReportRename(from, to, isDir, now, forgetAt: dir => { if (moved) _tree.Unmap(dir); })) return;
            // Not mapped before (made and renamed before its creation was read), or a path pattern may match below
            // it now where it did not before: map it all.
            _tree.EnsureMapped(to, whole: _pathPatterns || !moved);
        }
    }
}
