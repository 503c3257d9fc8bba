using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Watching.Fanotify
{
    /// <summary>
    /// The Linux backend for whole trees: one fanotify group per root, one filesystem mark per filesystem the tree
    /// spans, events filtered to the root in user space through the group's handle map. One reader thread sleeps in
    /// poll() with a short timeout (so Dispose stops it within ~100 ms), reads events and translates them. Lost
    /// events (FAN_Q_OVERFLOW) become a Rescan of the root and a fresh map; subtrees on filesystems that cannot be
    /// marked are rescanned on a timer; a root that is removed or moved away is reported and, once a directory is
    /// at its path again, watched afresh and rescanned. A failure of the reader is reported, covered by a Rescan,
    /// and followed by a fresh group.
    /// </summary>
    internal sealed class FanotifyWatcher : ITreeWatcher
    {
        private const int PollMilliseconds = 100;
        private static readonly TimeSpan RootCheckInterval = TimeSpan.FromMilliseconds(250);

        private readonly string _root;
        private readonly GlobFilter _exclude;
        private readonly ConcurrentQueue<RawChange> _sink;
        private readonly Action<string> _onFault;
        private readonly Action _wake;
        private readonly object _lifecycle = new object();
        private FanotifyTree _tree;
        private Thread _reader;
        private volatile bool _stopping;
        private long _overflows;

        public FanotifyWatcher(string root, GlobFilter exclude, ConcurrentQueue<RawChange> sink, Action<string> onFault, Action wake)
        {
            _root = Path.GetFullPath(root);
            if (_root.Length > 1) _root = _root.TrimEnd('/');
            _exclude = exclude ?? GlobFilter.None;
            _sink = sink;
            _onFault = onFault;
            _wake = wake;
        }

        public string Root => _root;
        public WatchBackend Backend => WatchBackend.Fanotify;
        public bool RootMissing { get; set; }
        public long Overflows => Interlocked.Read(ref _overflows);

        /// <summary>Test hook: while set, the reader does not read, so the kernel's queue fills (and overflows).</summary>
        internal volatile bool PauseReader;
        /// <summary>Test hook: the reader fails once, as if read(2) had failed.</summary>
        internal volatile bool FailOnce;
        /// <summary>How often subtrees that could not be marked are retried and rescanned.</summary>
        internal TimeSpan UnwatchedRescanInterval = TimeSpan.FromSeconds(30);
        /// <summary>Test hook: an errno to fail marking a directory's filesystem with, 0 to mark it.</summary>
        internal Func<string, int> MarkFault;
        /// <summary>The group's descriptor (tests read its fdinfo: the marks the kernel holds).</summary>
        internal int GroupFd => _tree?.Fd ?? -1;
        internal bool HasRename => _tree?.HasRename ?? false;
        internal int MarkedFilesystems => _tree?.MarkedFilesystems ?? 0;
        internal long Lookups => _tree?.Lookups ?? 0;
        /// <summary>The directories mapped now, sorted (tests read it once events have settled).</summary>
        internal List<string> MappedDirectories()
        {
            var dirs = new List<string>();
            var t = _tree;
            if (t == null) return dirs;
            lock (t) foreach (var (_, p) in t.Map.Subtree("")) dirs.Add(p);
            dirs.Sort(StringComparer.Ordinal);
            return dirs;
        }

        /// <summary>Test hook: the map loses a directory (and what is below it), as if its creation had been missed.</summary>
        internal void Forget(string dir)
        {
            var t = _tree;
            lock (t) t.Unmap(dir);
        }

        public void Start()
        {
            lock (_lifecycle)
            {
                _stopping = false;
                var tree = OpenTree();
                _tree = tree;
                _reader = new Thread(Read) { IsBackground = true, Name = "RealtimeMirror fanotify " + _root };
                _reader.Start();
            }
        }

        private FanotifyTree OpenTree()
        {
            var tree = FanotifyTree.Open(_root, _exclude, _onFault, MarkFault);
            tree.Stopping = () => _stopping;
            try { tree.MapTree(""); }
            catch (Exception) { tree.Dispose(); throw; }
            return tree;
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

        private void StopReader()
        {
            _stopping = true;
            if (_reader != null && _reader != Thread.CurrentThread) _reader.Join(TimeSpan.FromSeconds(30));
            _reader = null;
            Interlocked.Exchange(ref _tree, null)?.Dispose();
        }

        /// <summary>
        /// The reader thread. A failure it does not expect is reported, covered by a Rescan, and followed by a fresh
        /// group, retried with backoff: a reader that just stopped would lose every later change.
        /// </summary>
        private void Read()
        {
            var tree = _tree;
            var backoff = TimeSpan.FromMilliseconds(100);
            while (!_stopping)
            {
                try
                {
                    ReadUntilStopped(ref tree);
                    return;
                }
                catch (Exception e) when (!_stopping)
                {
                    _onFault?.Invoke($"{_root}: the fanotify reader failed ({e.Message}); watching again and rescanning.");
                }
                catch (Exception) { return; } // stopping: the descriptor may be closed under us
                for (tree = null; tree == null && !_stopping; backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks)))
                {
                    for (var waited = Stopwatch.StartNew(); waited.Elapsed < backoff && !_stopping;) Thread.Sleep(PollMilliseconds);
                    tree = Reopen();
                }
                _sink.Enqueue(new RawChange(ChangeType.Rescan, "", true, DateTime.UtcNow));
                _wake?.Invoke();
            }
        }

        private void ReadUntilStopped(ref FanotifyTree tree)
        {
            // The group hears the whole filesystem: a large buffer takes many events per read.
            var buffer = new byte[256 * 1024];
            var events = new List<FanotifyEvent>();
            var translator = new FanotifyTranslator(tree, _exclude, _sink);
            var retryClock = Stopwatch.StartNew();
            var rootClock = new Stopwatch();
            string goneReported = null;
            while (!_stopping)
            {
                if (PauseReader) { Thread.Sleep(10); continue; }
                if (FailOnce) { FailOnce = false; throw new IOException("test failure"); }
                int ready = Poll(tree.Fd, PollMilliseconds);
                var now = DateTime.UtcNow;
                if (ready > 0)
                {
                    int n = ReadEvents(tree.Fd, buffer);
                    if (n < 0 && -n != Errno.EAGAIN && -n != Errno.EINTR) throw new IOException($"read: errno {-n}");
                    events.Clear();
                    if (n > 0) FanotifyEvent.Parse(buffer, n, events, fd => LibC.close(fd));
                    lock (tree) foreach (var e in events) translator.Handle(e, now);
                }
                else if (ready < 0 && -ready != Errno.EINTR) throw new IOException($"poll: errno {-ready}");
                if (translator.Overflows > 0)
                {
                    Interlocked.Add(ref _overflows, translator.Overflows);
                    translator.Overflows = 0;
                    _onFault?.Invoke($"{_root}: the kernel dropped events (fanotify queue overflow); rescanning. Raising fs.fanotify.max_queued_events makes this rarer.");
                    lock (tree) tree.Resync(); // a rename or move-out may have been among the lost events
                }
                if (retryClock.Elapsed >= UnwatchedRescanInterval)
                {
                    retryClock.Restart();
                    List<string> dirs;
                    lock (tree) dirs = tree.RetryUnwatched();
                    foreach (var dir in dirs)
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
                            tree = fresh;
                            translator = new FanotifyTranslator(tree, _exclude, _sink);
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

        /// <summary>A new group watching the root's path again, swapped in for the old one; null while the root is absent.</summary>
        private FanotifyTree Reopen()
        {
            if (_stopping || !Directory.Exists(_root)) return null;
            FanotifyTree fresh;
            try { fresh = OpenTree(); }
            catch (Exception) { return null; }
            Interlocked.Exchange(ref _tree, fresh)?.Dispose();
            return fresh;
        }

        private static unsafe int Poll(int fd, int timeoutMs)
        {
            var p = new PollFd { Fd = fd, Events = PollFd.POLLIN };
            int r = LibC.poll(&p, 1, timeoutMs);
            return r < 0 ? -Errno.Last : r;
        }

        private static unsafe int ReadEvents(int fd, byte[] buffer)
        {
            fixed (byte* b = buffer)
            {
                long n = LibC.read(fd, b, (nuint)buffer.Length);
                return n < 0 ? -Errno.Last : (int)n;
            }
        }
    }
}
