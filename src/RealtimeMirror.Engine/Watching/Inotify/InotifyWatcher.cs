using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Watching.Inotify
{
    /// <summary>
    /// The Linux backend: inotify used directly, one watch per directory of the tree (its reader thread and
    /// recovery are <see cref="KernelTreeWatcher{TSession, TTranslator}"/>'s). Records are only translated on the
    /// reader; the pump does everything slow. The halves of a move wait a moment for each other.
    /// </summary>
    internal sealed class InotifyWatcher : KernelTreeWatcher<InotifyWatches, InotifyTranslator>
    {
        // Reused by every read (only the reader thread touches it).
        private readonly List<InotifyEvent> _records = new List<InotifyEvent>();

        public InotifyWatcher(string root, GlobFilter exclude, ConcurrentQueue<RawChange> sink, Action<string> onFault, Action wake)
            : base(root, exclude, sink, onFault, wake) { }

        public override WatchBackend Backend => WatchBackend.Inotify;
        protected override string KernelName => "inotify";

        /// <summary>Test hook: an errno to fail adding the watch of a directory with (ENOSPC, EACCES), 0 to add it.</summary>
        internal Func<string, int> AddWatchFault;
        /// <summary>Watches held now (for tests and diagnostics; read while the reader may change it).</summary>
        internal int WatchCount => Session?.Map.Count ?? 0;
        protected override InotifyWatches NewSession()
        {
            var watches = InotifyWatches.Open(_root, _exclude, _onFault);
            watches.AddWatchFault = AddWatchFault;
            return watches;
        }

        protected override string QueueLimitSysctl => "fs.inotify.max_queued_events";
        protected override int ReadBufferBytes => 64 * 1024; // room for at least 240 records of the longest name

        protected override InotifyTranslator NewTranslator(InotifyWatches watches) => new InotifyTranslator(watches, _exclude, _sink);

        protected override void Translate(InotifyTranslator translator, byte[] buffer, int length, DateTime now)
        {
            _records.Clear();
            InotifyEvent.Parse(buffer, length, _records);
            foreach (var r in _records) translator.Handle(r, now);
        }

        // A pending half of a move waits a moment for its other half, not a whole timeout.
        protected override int PollTimeout(InotifyTranslator translator) => translator.HasPendingMoves ? 2 : PollMilliseconds;

        protected override void AfterPoll(InotifyWatches watches, InotifyTranslator translator, bool idle, DateTime now)
        {
            if (translator.HasPendingMoves && (idle || now - translator.OldestPendingMove > TimeSpan.FromMilliseconds(20)))
                translator.FlushPendingMoves(now);
            if (idle && !translator.HasPendingMoves) watches.QueueDrained();
        }
    }
}
