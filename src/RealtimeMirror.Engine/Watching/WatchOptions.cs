using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Watching
{
    public sealed class WatchOptions
    {
        /// <summary>Editor swap and temp files: written and deleted in bursts, never worth mirroring.</summary>
        public static readonly IReadOnlyList<string> DefaultExcludes = new[] { "*.swp", "*.swx", "*~", ".#*", "4913", "*.tmp" };

        public IReadOnlyList<string> Roots { get; set; } = Array.Empty<string>();
        public GlobFilter Exclude { get; set; } = new GlobFilter(DefaultExcludes);
        /// <summary>A path's event is emitted once nothing touched it for this long.</summary>
        public TimeSpan Settle { get; set; } = TimeSpan.FromMilliseconds(50);
        /// <summary>A path that keeps changing is emitted at most this long after its first unsent change.</summary>
        public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(1);
        /// <summary>Pending + ready events per watch; beyond it everything folds into one Rescan per root.</summary>
        public int MaxQueuedEvents { get; set; } = DefaultMaxQueuedEvents;
        public const int DefaultMaxQueuedEvents = 100_000;
        /// <summary>Auto: inotify on Linux, FileSystemWatcher elsewhere.</summary>
        public WatchBackend Backend { get; set; } = WatchBackend.Auto;
    }
}
