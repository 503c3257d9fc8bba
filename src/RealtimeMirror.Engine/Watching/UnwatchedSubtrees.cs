using System;
using System.Collections.Generic;
using System.Linq;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>
    /// Directories the kernel would not watch (inotify's watch limit reached, no permission, a filesystem fanotify
    /// cannot mark), each standing for its whole subtree. Their changes give no events, so the watcher rescans them
    /// on a timer instead; kept in step with renames like the directory map. Owned by the reader thread.
    /// </summary>
    internal sealed class UnwatchedSubtrees
    {
        private readonly HashSet<string> _dirs = new HashSet<string>(StringComparer.Ordinal);

        public int Count => _dirs.Count;

        public bool Contains(string dir) => _dirs.Contains(dir);

        /// <summary>
        /// Adds a subtree unless it or an ancestor is there already. Checking ancestors costs the path's depth, so
        /// thousands of directories refused at the watch limit stay cheap; a descendant added earlier is only
        /// dropped when the set is taken.
        /// </summary>
        public void Add(string dir)
        {
            for (var d = dir; d != null; d = RelativePath.Parent(d))
                if (_dirs.Contains(d)) return;
            _dirs.Add(dir);
        }

        public void RemoveSubtree(string dir)
        {
            if (_dirs.Count > 0) _dirs.RemoveWhere(d => DirectoryMap<string>.IsAtOrBelow(d, dir));
        }

        public void MoveSubtree(string from, string to)
        {
            if (_dirs.Count == 0) return;
            var moved = _dirs.Where(d => DirectoryMap<string>.IsAtOrBelow(d, from)).ToList();
            foreach (var d in moved) _dirs.Remove(d);
            foreach (var d in moved) _dirs.Add(RelativePath.Moved(d, from, to));
        }

        /// <summary>Empties the set and returns its top subtrees (the caller tries to watch each again).</summary>
        public List<string> TakeAll()
        {
            var all = _dirs.Where(d => !HasAncestorIn(d)).ToList();
            _dirs.Clear();
            return all;
        }

        private bool HasAncestorIn(string dir)
        {
            for (var d = RelativePath.Parent(dir); d != null; d = RelativePath.Parent(d))
                if (_dirs.Contains(d)) return true;
            return false;
        }
    }
}
