using System;
using System.Collections.Generic;

namespace RealtimeMirror.Engine.Watching.Inotify
{
    /// <summary>
    /// Watch descriptor -> directory path below the root ("" is the root), and the reverse. The kernel's watches
    /// follow inodes, so when a directory is renamed every path at and below it is rewritten here; otherwise the
    /// events of its files would be reported under names that no longer exist. The paths are also kept sorted, so
    /// the watches below a directory are found without looking at all of them (a tree may hold a million).
    /// Owned by the reader thread.
    /// </summary>
    internal sealed class WatchMap
    {
        private readonly Dictionary<int, string> _paths = new Dictionary<int, string>();
        private readonly Dictionary<string, int> _wds = new Dictionary<string, int>(StringComparer.Ordinal);
        private readonly SortedSet<string> _sorted = new SortedSet<string>(StringComparer.Ordinal);

        public int Count => _paths.Count;

        public bool TryGetPath(int wd, out string path) => _paths.TryGetValue(wd, out path);

        public bool TryGetWd(string path, out int wd) => _wds.TryGetValue(path, out wd);

        public IEnumerable<int> Wds => _paths.Keys;

        /// <summary>
        /// Records where a watch is. Adding a watch for an inode already watched returns its wd again, so a wd may
        /// move to a new path; a path may also get a new wd before the old directory's IN_IGNORED arrives.
        /// </summary>
        public void Set(int wd, string path)
        {
            Remove(wd);
            _paths[wd] = path;
            _wds[path] = wd;
            _sorted.Add(path);
        }

        public void Remove(int wd)
        {
            if (!_paths.Remove(wd, out var path)) return;
            // The path may already belong to a newer watch (a directory replaced by one of the same name).
            if (_wds.TryGetValue(path, out var current) && current == wd)
            {
                _wds.Remove(path);
                _sorted.Remove(path);
            }
        }

        /// <summary>The current watches at and below a directory ("" = all).</summary>
        public List<(int Wd, string Path)> Subtree(string dir)
        {
            var found = new List<(int, string)>();
            if (dir.Length == 0)
            {
                foreach (var kv in _paths) found.Add((kv.Key, kv.Value));
                return found;
            }
            if (_wds.TryGetValue(dir, out var self)) found.Add((self, dir));
            // Every path below dir sorts between dir + "/" and dir + "0" ('0' follows '/').
            foreach (var p in _sorted.GetViewBetween(dir + "/", dir + "0"))
                if (IsAtOrBelow(p, dir)) found.Add((_wds[p], p));
            return found;
        }

        /// <summary>
        /// Rewrites the paths of the given watches (those at and below <paramref name="from"/> when its move began)
        /// to sit below <paramref name="to"/>. Only those: a directory made meanwhile under the old name is not moved.
        /// </summary>
        public void MoveSubtree(IReadOnlyList<int> wds, string from, string to)
        {
            var moved = new List<(int Wd, string Path)>();
            foreach (var wd in wds)
                if (_paths.TryGetValue(wd, out var path) && IsAtOrBelow(path, from)) moved.Add((wd, path));
            foreach (var (wd, _) in moved) Remove(wd);
            foreach (var (wd, path) in moved) Set(wd, to + path.Substring(from.Length));
        }

        public static bool IsAtOrBelow(string path, string dir)
        {
            if (dir.Length == 0) return true;
            if (path.Length == dir.Length) return string.Equals(path, dir, StringComparison.Ordinal);
            return path.Length > dir.Length && path[dir.Length] == '/' && path.StartsWith(dir, StringComparison.Ordinal);
        }
    }
}
