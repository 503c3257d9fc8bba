using System;
using System.Collections.Generic;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>
    /// Kernel identity of a watched directory (an inotify wd, a fanotify file handle) -> its path below the root
    /// ("" is the root), and the reverse. The kernel's identities follow inodes, so when a directory is renamed every
    /// path at and below it is rewritten here; otherwise the events of its files would be reported under names that
    /// no longer exist. The paths are also kept sorted, so the entries below a directory are found without looking
    /// at all of them (a tree may hold a million). Owned by the reader thread.
    /// </summary>
    internal class DirectoryMap<TKey> where TKey : notnull
    {
        private readonly Dictionary<TKey, string> _paths;
        private readonly Dictionary<string, TKey> _keys = new Dictionary<string, TKey>(StringComparer.Ordinal);
        private readonly SortedSet<string> _sorted = new SortedSet<string>(StringComparer.Ordinal);

        public DirectoryMap(IEqualityComparer<TKey> comparer = null) => _paths = new Dictionary<TKey, string>(comparer);

        public int Count => _paths.Count;

        public bool TryGetPath(TKey key, out string path) => _paths.TryGetValue(key, out path);

        public bool TryGetKey(string path, out TKey key) => _keys.TryGetValue(path, out key);

        public IEnumerable<TKey> Keys => _paths.Keys;

        /// <summary>
        /// Records where a directory is. The same inode seen again gives the same key, so a key may move to a new
        /// path; a path may also get a new key before the old directory's end is read.
        /// </summary>
        public void Set(TKey key, string path)
        {
            Remove(key);
            _paths[key] = path;
            _keys[path] = key;
            _sorted.Add(path);
        }

        public void Remove(TKey key)
        {
            if (!_paths.Remove(key, out var path)) return;
            // The path may already belong to a newer entry (a directory replaced by one of the same name).
            if (_keys.TryGetValue(path, out var current) && EqualityComparer<TKey>.Default.Equals(current, key))
            {
                _keys.Remove(path);
                _sorted.Remove(path);
            }
        }

        public void Clear()
        {
            _paths.Clear();
            _keys.Clear();
            _sorted.Clear();
        }

        /// <summary>The current entries at and below a directory ("" = all).</summary>
        public List<(TKey Key, string Path)> Subtree(string dir)
        {
            var found = new List<(TKey, string)>();
            if (dir.Length == 0)
            {
                foreach (var kv in _paths) found.Add((kv.Key, kv.Value));
                return found;
            }
            if (_keys.TryGetValue(dir, out var self)) found.Add((self, dir));
            // Every path below dir sorts between dir + "/" and dir + "0" ('0' follows '/').
            foreach (var p in _sorted.GetViewBetween(dir + "/", dir + "0"))
                if (IsAtOrBelow(p, dir)) found.Add((_keys[p], p));
            return found;
        }

        /// <summary>
        /// Rewrites the paths of the given entries (those at and below <paramref name="from"/> when its move began)
        /// to sit below <paramref name="to"/>. Only those: a directory made meanwhile under the old name is not moved.
        /// </summary>
        public void MoveSubtree(IReadOnlyList<TKey> keys, string from, string to)
        {
            var moved = new List<(TKey Key, string Path)>();
            foreach (var key in keys)
                if (_paths.TryGetValue(key, out var path) && IsAtOrBelow(path, from)) moved.Add((key, path));
            foreach (var (key, _) in moved) Remove(key);
            foreach (var (key, path) in moved) Set(key, Paths.RelativePath.Moved(path, from, to));
        }

        public static bool IsAtOrBelow(string path, string dir)
        {
            if (dir.Length == 0) return true;
            if (path.Length == dir.Length) return string.Equals(path, dir, StringComparison.Ordinal);
            return path.Length > dir.Length && path[dir.Length] == '/' && path.StartsWith(dir, StringComparison.Ordinal);
        }
    }
}
