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

        public void Note(FileMeta m)
        {
            if (m.Kind != EntryKind.File || m.LinkCount < 2 || m.Inode == 0) return;
            lock (_gate)
            {
                if (!_names.TryGetValue((m.Device, m.Inode), out var set)) _names[(m.Device, m.Inode)] = set = new HashSet<string>(StringComparer.Ordinal);
                set.Add(m.RelativePath);
            }
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
