using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Watching.Inotify
{
    /// <summary>
    /// The Linux backend: inotify used directly, one reader thread per root. The thread sleeps in poll() with a
    /// short timeout (so Dispose stops it within ~100 ms), reads records and only translates them; the pump does
    /// everything slow. Lost events (IN_Q_OVERFLOW) become a Rescan of the root; directories the kernel will not
    /// watch are rescanned on a timer; a root that is removed or moved away is reported and, once a directory is
    /// at its path again, watched afresh and rescanned.
    /// </summary>
    internal sealed class InotifyWatcher : KernelTreeWatcher<InotifyWatches>
    {
        public InotifyWatcher(string root, GlobFilter exclude, ConcurrentQueue<RawChange> sink, Action<string> onFault, Action wake)
            : base(root, exclude, sink, onFault, wake) { }

        public override WatchBackend Backend => WatchBackend.Inotify;
        protected override string KernelName => "inotify";

        /// <summary>Test hook: an errno to fail adding the watch of a directory with (ENOSPC, EACCES), 0 to add it.</summary>
        internal Func<string, int> AddWatchFault;
        /// <summary>Watches held now (for tests and diagnostics; read while the reader may change it).</summary>
        internal int WatchCount => Session?.Map.Count ?? 0;
        /// <summary>The directories watched now, sorted (tests read it once events have settled).</summary>
        internal List<string> WatchedDirectories()
        {
            var w = Session;
            var dirs = new List<string>();
            if (w == null) return dirs;
            foreach (var wd in w.Map.Wds) if (w.Map.TryGetPath(wd, out var p)) dirs.Add(p);
            dirs.Sort(StringComparer.Ordinal);
            return dirs;
        }

        protected override InotifyWatches OpenSession()
        {
            var watches = InotifyWatches.Open(_root, _exclude, _onFault);
            watches.AddWatchFault = AddWatchFault;
            watches.Stopping = () => _stopping;
            try { watches.WatchTree(""); }
            catch (Exception) { watches.Dispose(); throw; }
            return watches;
        }

        protected override void ReadUntilStopped(ref InotifyWatches watches)
        {
            var buffer = new byte[64 * 1024]; // room for at least 240 records of the longest name
            var records = new List<InotifyEvent>();
            var translator = new InotifyTranslator(watches, _exclude, _sink);
            var retryClock = Stopwatch.StartNew();
            var rootClock = new Stopwatch();
            string goneReported = null;
            while (!_stopping)
            {
                if (PauseReader) { Thread.Sleep(10); continue; }
                if (FailOnce) { FailOnce = false; throw new IOException("test failure"); }
                // A pending half of a move waits a moment for its other half, not a whole timeout.
                int ready = Poll(watches.Fd, translator.HasPendingMoves ? 2 : PollMilliseconds);
                var now = DateTime.UtcNow;
                if (ready > 0)
                {
                    int n = ReadInto(watches.Fd, buffer);
                    if (n < 0 && -n != Errno.EAGAIN && -n != Errno.EINTR) throw new IOException($"read: errno {-n}");
                    records.Clear();
                    if (n > 0) InotifyEvent.Parse(buffer, n, records);
                    foreach (var r in records) translator.Handle(r, now);
                }
                else if (ready < 0 && -ready != Errno.EINTR) throw new IOException($"poll: errno {-ready}");
                if (translator.HasPendingMoves && (ready == 0 || now - translator.OldestPendingMove > TimeSpan.FromMilliseconds(20)))
                    translator.FlushPendingMoves(now);
                if (ready == 0 && !translator.HasPendingMoves) watches.QueueDrained();
                if (translator.Overflows > 0)
                {
                    Interlocked.Add(ref _overflows, translator.Overflows);
                    translator.Overflows = 0;
                    _onFault?.Invoke($"{_root}: the kernel dropped events (inotify queue overflow); rescanning. Raising fs.inotify.max_queued_events makes this rarer.");
                    watches.Resync(); // a rename or move-out may have been among the lost records
                }
                if (retryClock.Elapsed >= UnwatchedRescanInterval)
                {
                    retryClock.Restart();
                    foreach (var dir in watches.RetryUnwatched())
                    {
                        _sink.Enqueue(new RawChange(ChangeType.Rescan, dir, true, DateTime.UtcNow));
                        translator.Enqueued = true;
                    }
                }
                if (translator.RootGone != null)
                {
                    var fresh = ReturnOfRoot(translator.RootGone, ref goneReported, rootClock);
                    if (fresh != null)
                    {
                        // Another directory (or the same one, moved back) is at the root's path: watched from scratch.
                        watches = fresh;
                        translator = new InotifyTranslator(watches, _exclude, _sink);
                        translator.Enqueued = true;
                    }
                }
                if (translator.Enqueued)
                {
                    translator.Enqueued = false;
                    _wake?.Invoke();
                }
            }
        }
    }
}
