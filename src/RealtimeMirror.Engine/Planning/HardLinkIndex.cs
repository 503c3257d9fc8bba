using System;
using System.Collections.Generic;

namespace RealtimeMirror.Engine.Planning
{
    /// <summary>
    /// The other names of multiply-linked source files, learnt while scanning: a write through one name changes
    /// them all, but the watcher reports only the name written to. Stale entries cost an extra compare, never a
    /// wrong action (the planner checks each name against the source).
    /// </summary>
    public sealed class HardLinkIndex
    {
        private readonly Dictionary<(long Dev, long Ino), HashSet<string>> _names = new Dictionary<(long, long), HashSet<string>>();
        private readonly object _gate = new object();
        // Inodes (at a link count) whose other names a whole-tree scan looked for already: names outside the root are
        // not found, and must not make every later write to such a file scan the whole tree again.
        private readonly HashSet<(long Dev, long Ino, int Links)> _searched = new HashSet<(long, long, int)>();

        public void Note(FileMeta m)
        {
            if (m.Kind != EntryKind.File || m.LinkCount < 2 || m.Inode == 0) return;
            lock (_gate)
            {
                if (!_names.TryGetValue((m.Device, m.Inode), out var set)) _names[(m.Device, m.Inode)] = set = new HashSet<string>(StringComparer.Ordinal);
                set.Add(m.RelativePath);
            }
        }

        /// <summary>True when the file has more names than are known and nobody looked for them at this link count yet.</summary>
        public bool NeedsSearch(FileMeta m)
        {
            if (m.Kind != EntryKind.File || m.LinkCount < 2 || m.Inode == 0) return false;
            lock (_gate)
            {
                if (_searched.Contains((m.Device, m.Inode, m.LinkCount))) return false;
                return !_names.TryGetValue((m.Device, m.Inode), out var set) || set.Count < m.LinkCount;
            }
        }

        public void MarkSearched(FileMeta m)
        {
            lock (_gate) _searched.Add((m.Device, m.Inode, m.LinkCount));
        }

        /// <summary>Known names of the same file other than <paramref name="m"/>'s own.</summary>
        public List<string> OtherNames(FileMeta m)
        {
            var result = new List<string>();
            if (m.Kind != EntryKind.File || m.LinkCount < 2 || m.Inode == 0) return result;
            lock (_gate)
                if (_names.TryGetValue((m.Device, m.Inode), out var set))
                    foreach (var n in set) if (n != m.RelativePath) result.Add(n);
            return result;
        }
    }
}
