using System;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>
    /// One watched root as MirrorWatch sees it: a backend turns OS events into RawChanges on the queue it was
    /// given (and calls wake), reports trouble through onFault, and says how often the OS dropped events.
    /// Constructed by <see cref="WatcherFactory"/> from (root, exclude, sink, onFault, wake).
    /// </summary>
    internal interface ITreeWatcher : IDisposable
    {
        /// <summary>The full path of the watched directory.</summary>
        string Root { get; }

        /// <summary>The OS interface this watcher uses.</summary>
        WatchBackend Backend { get; }

        /// <summary>Set by the watch's root check while the root directory is gone.</summary>
        bool RootMissing { get; set; }

        /// <summary>Times the OS dropped events (each also queued a Rescan of the root).</summary>
        long Overflows { get; }

        void Start();

        /// <summary>Watches the root again at once (it was removed and is back).</summary>
        void Restart();
    }
}
