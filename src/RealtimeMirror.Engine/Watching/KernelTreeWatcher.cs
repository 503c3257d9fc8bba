using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>
    /// What the inotify and fanotify backends share: one reader thread per root that sleeps in poll() with a short
    /// timeout (so Dispose stops it within ~100 ms), reads and hands what it read to the translator; a session (the
    /// kernel descriptor with its directory map) opened and filled before Start returns; and recovery: lost events
    /// (a queue overflow) become a Rescan of the root and a fresh map, subtrees the kernel would not watch are
    /// retried and rescanned on a timer, a root that is removed or moved away is reported and, once a directory is
    /// at its path again, watched afresh and rescanned. A failure of the reader that nothing expects is reported,
    /// covered by a Rescan and followed by a fresh session, retried with backoff: a reader that just stopped would
    /// lose every later change. The backends only open sessions and decode their events.
    /// </summary>
    internal abstract class KernelTreeWatcher<TSession, TTranslator> : ITreeWatcher
        where TSession : KernelSession where TTranslator : KernelTranslator
    {
        protected const int PollMilliseconds = 100;
        protected static readonly TimeSpan RootCheckInterval = TimeSpan.FromMilliseconds(250);

        protected readonly string _root;
        protected readonly GlobFilter _exclude;
        protected readonly ConcurrentQueue<RawChange> _sink;
        protected readonly Action<string> _onFault;
        protected readonly Action _wake;
        private readonly object _lifecycle = new object();
        private TSession _session;
        private Thread _reader;
        protected volatile bool _stopping;
        protected long _overflows;

        protected KernelTreeWatcher(string root, GlobFilter exclude, ConcurrentQueue<RawChange> sink, Action<string> onFault, Action wake)
        {
            _root = Path.GetFullPath(root);
            if (_root.Length > 1) _root = _root.TrimEnd('/');
            _exclude = exclude ?? GlobFilter.None;
            _sink = sink;
            _onFault = onFault;
            _wake = wake;
        }

        public string Root => _root;
        public abstract WatchBackend Backend { get; }
        public bool RootMissing { get; set; }
        public long Overflows => Interlocked.Read(ref _overflows);

        /// <summary>Test hook: while set, the reader does not read, so the kernel's queue fills (and overflows).</summary>
        internal volatile bool PauseReader;
        /// <summary>Test hook: the reader fails once, as if read(2) had failed.</summary>
        internal volatile bool FailOnce;
        /// <summary>How often subtrees the kernel would not watch are retried and rescanned.</summary>
        internal TimeSpan UnwatchedRescanInterval = TimeSpan.FromSeconds(30);

        /// <summary>The session in use now (tests and diagnostics read it; the reader may swap it).</summary>
        protected TSession Session => _session;
        /// <summary>"inotify" or "fanotify", for thread names and messages.</summary>
        protected abstract string KernelName { get; }
        /// <summary>The sysctl that sizes the kernel's event queue, for the overflow message.</summary>
        protected abstract string QueueLimitSysctl { get; }
        /// <summary>How many bytes one read takes.</summary>
        protected abstract int ReadBufferBytes { get; }
        /// <summary>A new session on the root, nothing below it watched yet; throws when the kernel cannot watch the root.</summary>
        protected abstract TSession NewSession();
        protected abstract TTranslator NewTranslator(TSession session);
        /// <summary>Decodes the first <paramref name="length"/> bytes of a read and hands each event to the translator.</summary>
        protected abstract void Translate(TTranslator translator, byte[] buffer, int length, DateTime now);
        /// <summary>How long poll() may sleep now.</summary>
        protected virtual int PollTimeout(TTranslator translator) => PollMilliseconds;
        /// <summary>After each poll (and read, when there was something): what the backend settles by time.</summary>
        protected virtual void AfterPoll(TSession session, TTranslator translator, bool idle, DateTime now) { }

        /// <summary>The directories the session knows by path now, sorted (tests read it once events have settled).</summary>
        internal List<string> WatchedDirectories()
        {
            var session = Session;
            if (session == null) return new List<string>();
            List<string> dirs;
            lock (session) dirs = new List<string>(session.WatchedPaths());
            dirs.Sort(StringComparer.Ordinal);
            return dirs;
        }

        /// <summary>A new session covering the whole tree; throws when the kernel cannot watch the root.</summary>
        private TSession OpenSession()
        {
            var session = NewSession();
            session.Stopping = () => _stopping;
            try { session.WatchAll(); }
            catch (Exception) { session.Dispose(); throw; }
            return session;
        }

        public void Start()
        {
            lock (_lifecycle)
            {
                _stopping = false;
                // Watched before Start returns: a change made right after starting the watch is reported.
                _session = OpenSession();
                _reader = new Thread(Read) { IsBackground = true, Name = $"RealtimeMirror {KernelName} {_root}" };
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

        /// <summary>Stops the reader (it notices within one poll timeout) and closes the session it used.</summary>
        private void StopReader()
        {
            _stopping = true;
            // Walks give up when stopping, so this is one poll timeout or one directory; the long bound only guards
            // against closing the descriptor under a reader that is still using it (its number could be reused).
            if (_reader != null && _reader != Thread.CurrentThread) _reader.Join(TimeSpan.FromSeconds(30));
            _reader = null;
            // After the join only this thread touches it (the reader may have replaced it when the root came back).
            Interlocked.Exchange(ref _session, null)?.Dispose();
        }

        private void Read()
        {
            var session = _session;
            var backoff = TimeSpan.FromMilliseconds(100);
            while (!_stopping)
            {
                try
                {
                    ReadUntilStopped(ref session);
                    return;
                }
                catch (Exception e) when (!_stopping)
                {
                    _onFault?.Invoke($"{_root}: the {KernelName} reader failed ({e.Message}); watching again and rescanning.");
                }
                catch (Exception) { return; } // stopping: the descriptor may be closed under us
                for (session = null; session == null && !_stopping; backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks)))
                {
                    for (var waited = Stopwatch.StartNew(); waited.Elapsed < backoff && !_stopping;) Thread.Sleep(PollMilliseconds);
                    session = Reopen();
                }
                _sink.Enqueue(new RawChange(ChangeType.Rescan, "", true, DateTime.UtcNow));
                _wake?.Invoke();
            }
        }

        /// <summary>Reads and translates events until stopping; replaces the session when the root is back after a move.</summary>
        private void ReadUntilStopped(ref TSession session)
        {
            var buffer = new byte[ReadBufferBytes];
            var translator = NewTranslator(session);
            var retryClock = Stopwatch.StartNew();
            var rootClock = new Stopwatch();
            string goneReported = null;
            while (!_stopping)
            {
                if (PauseReader) { Thread.Sleep(10); continue; }
                if (FailOnce) { FailOnce = false; throw new IOException("test failure"); }
                int ready = Poll(session.Fd, PollTimeout(translator));
                var now = DateTime.UtcNow;
                if (ready > 0)
                {
                    int n = ReadInto(session.Fd, buffer);
                    if (n < 0 && -n != Errno.EAGAIN && -n != Errno.EINTR) throw new IOException($"read: errno {-n}");
                    // Locked against the test hooks that read the directory map.
                    if (n > 0) lock (session) Translate(translator, buffer, n, now);
                }
                else if (ready < 0 && -ready != Errno.EINTR) throw new IOException($"poll: errno {-ready}");
                lock (session) AfterPoll(session, translator, ready == 0, now);
                if (translator.Overflows > 0)
                {
                    Interlocked.Add(ref _overflows, translator.Overflows);
                    translator.Overflows = 0;
                    _onFault?.Invoke($"{_root}: the kernel dropped events ({KernelName} queue overflow); rescanning. Raising {QueueLimitSysctl} makes this rarer.");
                    lock (session) session.Resync(); // a rename or move-out may have been among the lost events
                }
                if (retryClock.Elapsed >= UnwatchedRescanInterval)
                {
                    retryClock.Restart();
                    List<string> dirs;
                    lock (session) dirs = session.RetryUnwatched();
                    foreach (var dir in dirs) translator.Rescan(dir, DateTime.UtcNow);
                }
                if (translator.RootGone != null)
                {
                    var fresh = ReturnOfRoot(translator.RootGone, ref goneReported, rootClock);
                    if (fresh != null)
                    {
                        // Another directory (or the same one, moved back) is at the root's path: watched from scratch.
                        session = fresh;
                        translator = NewTranslator(session);
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

        /// <summary>
        /// While the root is gone (removed or moved away): says so once, then tries its path every RootCheckInterval.
        /// Returns a fresh session once a directory (another one, or the same moved back) is there again, with a Rescan
        /// of the root queued; null meanwhile. The caller starts a new translator on it.
        /// </summary>
        protected TSession ReturnOfRoot(string why, ref string goneReported, Stopwatch rootClock)
        {
            if (goneReported == null)
            {
                goneReported = why;
                _onFault?.Invoke($"Watched root '{_root}' {goneReported}; it is watched again once it is back.");
                rootClock.Restart();
            }
            if (rootClock.Elapsed < RootCheckInterval) return null;
            rootClock.Restart();
            var fresh = Reopen();
            if (fresh == null) return null;
            goneReported = null;
            _sink.Enqueue(new RawChange(ChangeType.Rescan, "", true, DateTime.UtcNow));
            return fresh;
        }

        /// <summary>A new session watching the root's path again, swapped in for the old one; null while the root is absent.</summary>
        private TSession Reopen()
        {
            if (_stopping || !Directory.Exists(_root)) return null;
            TSession fresh;
            try { fresh = OpenSession(); }
            catch (Exception) { return null; }
            // Stop/Restart join this thread before they touch the session, so the swap cannot race them.
            Interlocked.Exchange(ref _session, fresh)?.Dispose();
            return fresh;
        }

        private static unsafe int Poll(int fd, int timeoutMs)
        {
            var p = new PollFd { Fd = fd, Events = PollFd.POLLIN };
            int r = LibC.poll(&p, 1, timeoutMs);
            return r < 0 ? -Errno.Last : r;
        }

        /// <summary>One read(2) of the descriptor into the buffer: the byte count, or minus the errno.</summary>
        private static unsafe int ReadInto(int fd, byte[] buffer)
        {
            fixed (byte* b = buffer)
            {
                long n = LibC.read(fd, b, (nuint)buffer.Length);
                return n < 0 ? -Errno.Last : (int)n;
            }
        }
    }
}
