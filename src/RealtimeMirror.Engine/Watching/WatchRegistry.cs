using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>The watches of this process, by Id: what Start-/Get-/Stop-MirrorWatch work on.</summary>
    public static class WatchRegistry
    {
        private static readonly ConcurrentDictionary<int, MirrorWatch> Watches = new ConcurrentDictionary<int, MirrorWatch>();
        private static int _lastId;

        public static MirrorWatch Start(WatchOptions options)
        {
            var watch = new MirrorWatch(Interlocked.Increment(ref _lastId), options);
            watch.Start();
            Watches[watch.Id] = watch;
            return watch;
        }

        public static MirrorWatch Get(int id) => Watches.TryGetValue(id, out var w) ? w : null;

        public static IReadOnlyList<MirrorWatch> All => Watches.Values.OrderBy(w => w.Id).ToList();

        public static bool Stop(int id)
        {
            var w = Get(id);
            if (w == null) return false;
            w.Stop();
            return true;
        }
    }
}
