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
    internal sealed class FanotifyWatcher : KernelTreeWatcher<FanotifyTree>
    {
        public FanotifyWatcher(string root, GlobFilter exclude, ConcurrentQueue<RawChange> sink, Action<string> onFault, Action wake)
            : base(root, exclude, sink, onFault, wake) { }

        public override WatchBackend Backend => WatchBackend.Fanotify;
        protected override string KernelName => "fanotify";

        /// <summary>Test hook: an errno to fail marking a directory's filesystem with, 0 to mark it.</summary>
        internal Func<string, int> MarkFault;
        /// <summary>The group's descriptor (tests read its fdinfo: the marks the kernel holds).</summary>
        internal int GroupFd => Session?.Fd ?? -1;
        internal bool HasRename => Session?.HasRename ?? false;
        internal int MarkedFilesystems => Session?.MarkedFilesystems ?? 0;
        internal long Lookups => Session?.Lookups ?? 0;
        /// <summary>The directories mapped now, sorted (tests read it once events have settled).</summary>
        internal List<string> MappedDirectories()
        {
            var dirs = new List<string>();
            var t = Session;
            if (t == null) return dirs;
            lock (t) foreach (var (_, p) in t.Map.Subtree("")) dirs.Add(p);
            dirs.Sort(StringComparer.Ordinal);
            return dirs;
        }

        /// <summary>Test hook: the map loses a directory (and what is below it), as if its creation had been missed.</summary>
        internal void Forget(string dir)
        {
            var t = Session;
            lock (t) t.Unmap(dir);
        }

        protected override FanotifyTree OpenSession()
        {
            var tree = FanotifyTree.Open(_root, _exclude, _onFault, MarkFault);
            tree.Stopping = () => _stopping;
            try { tree.MapTree(""); }
            catch (Exception) { tree.Dispose(); throw; }
            return tree;
        }

        protected override void ReadUntilStopped(ref FanotifyTree tree)
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
                    int n = ReadInto(tree.Fd, buffer);
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
                    var fresh = ReturnOfRoot(translator.RootGone, ref goneReported, rootClock);
                    if (fresh != null)
                    {
                        // Another directory (or the same one, moved back) is at the root's path: watched from scratch.
                        tree = fresh;
                        translator = new FanotifyTranslator(tree, _exclude, _sink);
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
