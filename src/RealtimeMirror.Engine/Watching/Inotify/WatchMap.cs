using System.Collections.Generic;

namespace RealtimeMirror.Engine.Watching.Inotify
{
    /// <summary>Watch descriptor -> directory path below the root (see <see cref="DirectoryMap{TKey}"/>).</summary>
    internal sealed class WatchMap : DirectoryMap<int>
    {
        public bool TryGetWd(string path, out int wd) => TryGetKey(path, out wd);

        public IEnumerable<int> Wds => Keys;

        public new static bool IsAtOrBelow(string path, string dir) => DirectoryMap<int>.IsAtOrBelow(path, dir);
    }
}
