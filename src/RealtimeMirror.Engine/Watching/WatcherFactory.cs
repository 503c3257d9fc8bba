using System;
using System.Collections.Concurrent;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Watching.Inotify;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>The one place a watch backend is chosen.</summary>
    internal static class WatcherFactory
    {
        /// <summary>What Auto means here; Inotify off Linux is refused (there is no such interface).</summary>
        public static WatchBackend Resolve(WatchBackend requested)
        {
            if (requested == WatchBackend.Auto) return OperatingSystem.IsLinux() ? WatchBackend.Inotify : WatchBackend.Portable;
            if (requested == WatchBackend.Inotify && !OperatingSystem.IsLinux())
                throw new PlatformNotSupportedException("The Inotify watch backend exists only on Linux; use Auto or Portable.");
            return requested;
        }

        public static ITreeWatcher Create(WatchBackend backend, string root, GlobFilter exclude, ConcurrentQueue<RawChange> sink, Action<string> onFault, Action wake)
        {
            switch (Resolve(backend))
            {
                case WatchBackend.Inotify: return new InotifyWatcher(root, exclude, sink, onFault, wake);
                default: return new TreeWatcher(root, exclude, sink, onFault, wake);
            }
        }
    }
}
