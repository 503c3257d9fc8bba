using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Watching.Fanotify;
using RealtimeMirror.Engine.Watching.Inotify;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>The one place a watch backend is chosen.</summary>
    public static class WatcherFactory
    {
        /// <summary>
        /// What a request means for these roots, and why (shown on the watch and in -Verbose). Auto takes fanotify
        /// where every root can have it, else inotify on Linux, else FileSystemWatcher; Inotify off Linux and
        /// Fanotify where the kernel, the privileges or a root's filesystem do not allow it are refused.
        /// </summary>
        public static (WatchBackend Backend, string Note) Choose(WatchBackend requested, IReadOnlyList<string> roots)
        {
            switch (requested)
            {
                case WatchBackend.Portable:
                    return (WatchBackend.Portable, "Portable as asked: .NET FileSystemWatcher (changes wait out the settle window).");
                case WatchBackend.Inotify:
                    if (!OperatingSystem.IsLinux())
                        throw new PlatformNotSupportedException("The Inotify watch backend exists only on Linux; use Auto or Portable.");
                    return (WatchBackend.Inotify, "Inotify as asked: one kernel watch per directory (fs.inotify.max_user_watches).");
                case WatchBackend.Fanotify:
                {
                    var why = FanotifyUnavailable(roots);
                    if (why != null) throw new PlatformNotSupportedException($"The Fanotify watch backend cannot be used: {why}. Use Auto or Inotify.");
                    return (WatchBackend.Fanotify, "Fanotify as asked: one mark per filesystem, no per-directory watches.");
                }
                default:
                {
                    if (!OperatingSystem.IsLinux())
                        return (WatchBackend.Portable, "Auto: Portable (.NET FileSystemWatcher), the only backend off Linux.");
                    var why = FanotifyUnavailable(roots);
                    if (why == null) return (WatchBackend.Fanotify, "Auto: Fanotify (permitted here): one mark per filesystem, no per-directory watches.");
                    return (WatchBackend.Inotify, $"Auto: Inotify, one kernel watch per directory, because {why}.");
                }
            }
        }

        /// <summary>What Auto means for these roots (no reason given).</summary>
        public static WatchBackend Resolve(WatchBackend requested, IReadOnlyList<string> roots) => Choose(requested, roots).Backend;

        /// <summary>Why fanotify cannot watch these roots, or null when it can.</summary>
        public static string FanotifyUnavailable(IReadOnlyList<string> roots)
        {
            if (!OperatingSystem.IsLinux()) return "fanotify exists only on Linux";
            foreach (var r in roots)
            {
                var why = FanotifyTree.Unavailable(r);
                if (why != null) return why;
            }
            return null;
        }

        internal static ITreeWatcher Create(WatchBackend backend, string root, GlobFilter exclude, ConcurrentQueue<RawChange> sink, Action<string> onFault, Action wake)
        {
            switch (backend)
            {
                case WatchBackend.Fanotify: return new FanotifyWatcher(root, exclude, sink, onFault, wake);
                case WatchBackend.Inotify: return new InotifyWatcher(root, exclude, sink, onFault, wake);
                case WatchBackend.Portable: return new TreeWatcher(root, exclude, sink, onFault, wake);
                default: throw new ArgumentException("Choose the backend first (WatcherFactory.Choose).", nameof(backend));
            }
        }
    }
}
