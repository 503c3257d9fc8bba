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
    internal sealed class InotifyWatcher : ITreeWatcher
    {
        private const int PollMilliseconds = 100;
        private static readonly TimeSpan RootCheckInterval = TimeSpan.FromMilliseconds(250);

        private readonly string _root;
        private readonly GlobFilter _exclude;
        private readonly ConcurrentQueue<RawChange> _sink;
        private readonly Action<string> _onFault;
        private readonly Action _wake;
        private readonly object _lifecycle = new object();
        private InotifyWatches _watches;
        private Thread _reader;
        private volatile bool _stopping;
        private long _overflows;

        public InotifyWatcher(string root, GlobFilter exclude, ConcurrentQueue<RawChange> sink, Action<string> onFault, Action wake)
        {
            _root = Path.GetFullPath(root);
            if (_root.Length > 1) _root = _root.TrimEnd('/');
            _exclude = exclude ?? GlobFilter.None;
            _sink = sink;
            _onFault = onFault;
            _wake = wake;
        }

        public string Root => _root;
        public WatchBackend Backend => WatchBackend.Inotify;
        public bool RootMissing { get; set; }
        public long Overflows => Interlocked.Read(ref _overflows);

        /// <summary>Test hook: while set, the reader does not read, so the kernel's queue fills (and overflows).</summary>
        internal volatile bool PauseReader;
        /// <summary>Test hook: the reader fails once, as if read(2) had failed.</summary>
        internal volatile bool FailOnce;
        /// <summary>How often subtrees the kernel would not watch are retried and rescanned.</summary>
        internal TimeSpan UnwatchedRescanInterval = TimeSpan.FromSeconds(30);
        /// <summary>Test hook: an errno to fail adding the watch of a directory with (ENOSPC, EACCES), 0 to add it.</summary>
        internal Func<string, int> AddWatchFault;
        /// <summary>Watches held now (for tests and diagnostics; read while the reader may change it).</summary>
        internal int WatchCount => _watches?.Map.Count ?? 0;
        /// <summary>The directories watched now, sorted (tests read it once events have settled).</summary>
        internal List<string> WatchedDirectories()
        {
            var w = _watches;
            var dirs = new List<string>();
            if (w == null) return dirs;
            foreach (var wd in w.Map.Wds) if (w.Map.TryGetPath(wd, out var p)) dirs.Add(p);
            dirs.Sort(StringComparer.Ordinal);
            return dirs;
        }

        public void Start()
        {
            lock (_lifecycle)
            {
                _stopping = false;
                var watches = InotifyWatches.Open(_root, _exclude, _onFault);
                watches.AddWatchFault = AddWatchFault;
                watches.Stopping = () => _stopping;
                // Watched before Start returns: a change made right after starting the watch is reported.
                try { watches.WatchTree(""); }
                catch (Exception) { watches.Dispose(); throw; }
                _watches = watches;
                _reader = new Thread(Read) { IsBackground = true, Name = "RealtimeMirror inotify " + _root };
                _reader.Start();
            }
        }

        public void Restart()
        {
            lock (_lifecycle)
            {
                StopReader();
                Start();
            }
        }

        public void Dispose()
        {
            lock (_lifecycle) StopReader();
        }

        /// <summary>Stops the reader (it notices within one poll timeout) and closes the instance it used.</summary>
        private void StopReader()
        {
            _stopping = true;
            // Walks give up when stopping, so this is one poll timeout or one directory; the long bound only guards
            // against closing the descriptor under a reader that is still using it (its number could be reused).
            if (_reader != null && _reader != Thread.CurrentThread) _reader.Join(TimeSpan.FromSeconds(30));
            _reader = null;
            // After the join only this thread touches it (the reader may have replaced it when the root came back).
            Interlocked.Exchange(ref _watches, null)?.Dispose();
        }

        /// <summary>
        /// The reader thread. A failure it does not expect (none is known) is reported, covered by a Rescan, and
        /// followed by a fresh instance, retried with backoff: a reader that just stopped would lose every later change.
        /// </summary>
        private void Read()
        {
            var watches = _watches;
            var backoff = TimeSpan.FromMilliseconds(100);
            while (!_stopping)
            {
                try
                {
                    ReadUntilStopped(ref watches);
                    return;
                }
                catch (Exception e) when (!_stopping)
                {
                    _onFault?.Invoke($"{_root}: the inotify reader failed ({e.Message}); watching again and rescanning.");
                }
                catch (Exception) { return; } // stopping: the descriptor may be closed under us
                for (watches = null; watches == null && !_stopping; backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks)))
                {
                    for (var waited = Stopwatch.StartNew(); waited.Elapsed < backoff && !_stopping;) Thread.Sleep(PollMilliseconds);
                    watches = Reopen();
                }
                _sink.Enqueue(new RawChange(ChangeType.Rescan, "", true, DateTime.UtcNow));
                _wake?.Invoke();
            }
        }

        private void ReadUntilStopped(ref InotifyWatches watches)
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
                    int n = ReadRecords(watches.Fd, buffer);
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
                    if (goneReported == null)
                    {
                        goneReported = translator.RootGone;
                        _onFault?.Invoke($"Watched root '{_root}' {goneReported}; it is watched again once it is back.");
                        rootClock.Restart();
                    }
                    if (rootClock.Elapsed >= RootCheckInterval)
                    {
                        rootClock.Restart();
                        var fresh = Reopen();
                        if (fresh != null)
                        {
                            // Another directory (or the same one, moved back) is at the root's path: watch it from scratch.
                            watches = fresh;
                            translator = new InotifyTranslator(watches, _exclude, _sink);
                            goneReported = null;
                            _sink.Enqueue(new RawChange(ChangeType.Rescan, "", true, DateTime.UtcNow));
                            translator.Enqueued = true;
                        }
                    }
                }
                if (translator.Enqueued)
                {
                    translator.Enqueued = false;
                    _wake?.Invoke();
                }
            }
        }

        /// <summary>A new instance watching the root's path again, swapped in for the old one; null while the root is absent.</summary>
        private InotifyWatches Reopen()
        {
            if (_stopping || !Directory.Exists(_root)) return null;
            InotifyWatches fresh;
            try
            {
                fresh = InotifyWatches.Open(_root, _exclude, _onFault);
                fresh.AddWatchFault = AddWatchFault;
                fresh.Stopping = () => _stopping;
                fresh.WatchTree("");
            }
            catch (Exception) { return null; }
            // Stop/Restart join this thread before they touch _watches, so the swap cannot race them.
            Interlocked.Exchange(ref _watches, fresh)?.Dispose();
            return fresh;
        }

        private static unsafe int Poll(int fd, int timeoutMs)
        {
            var p = new PollFd { Fd = fd, Events = PollFd.POLLIN };
            int r = LibC.poll(&p, 1, timeoutMs);
            return r < 0 ? -Errno.Last : r;
        }

        private static unsafe int ReadRecords(int fd, byte[] buffer)
        {
            fixed (byte* b = buffer)
            {
                long n = LibC.read(fd, b, (nuint)buffer.Length);
                return n < 0 ? -Errno.Last : (int)n;
            }
        }
    }
}
