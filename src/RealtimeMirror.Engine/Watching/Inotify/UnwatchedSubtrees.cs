using System;
using System.Collections.Generic;
using System.Linq;

namespace RealtimeMirror.Engine.Watching.Inotify
{
    /// <summary>
    /// Directories the kernel would not watch (watch limit reached, no permission), each standing for its whole
    /// subtree. Their changes give no events, so the watcher rescans them on a timer instead; kept in step with
    /// renames and deletes like the watch map. Owned by the reader thread.
    /// </summary>
    internal sealed class UnwatchedSubtrees
    {
        private readonly HashSet<string> _dirs = new HashSet<string>(StringComparer.Ordinal);

        public int Count => _dirs.Count;

        public bool Contains(string dir) => _dirs.Contains(dir);

        /// <summary>Adds a subtree unless an ancestor already stands for it; drops the descendants it covers.</summary>
        public void Add(string dir)
        {
            if (_dirs.Any(d => WatchMap.IsAtOrBelow(dir, d))) return;
            _dirs.RemoveWhere(d => WatchMap.IsAtOrBelow(d, dir));
            _dirs.Add(dir);
        }

        public void RemoveSubtree(string dir) => _dirs.RemoveWhere(d => WatchMap.IsAtOrBelow(d, dir));

        public void MoveSubtree(string from, string to)
        {
            var moved = _dirs.Where(d => WatchMap.IsAtOrBelow(d, from)).ToList();
            foreach (var d in moved) _dirs.Remove(d);
            foreach (var d in moved) _dirs.Add(to + d.Substring(from.Length));
        }

        /// <summary>Empties the set and returns what was in it (the caller tries to watch each again).</summary>
        public List<string> TakeAll()
        {
            var all = _dirs.ToList();
            _dirs.Clear();
            return all;
        }
    }
}
