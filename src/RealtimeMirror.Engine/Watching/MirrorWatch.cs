using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform;

namespace RealtimeMirror.Engine.Watching
{
    public enum WatchState { Running, Stopped, Faulted }

    /// <summary>
    /// A watch over one or more roots. OS callbacks put raw changes on a queue; one pump thread drains it,
    /// reports what already sits inside new directories, runs the coalescers, and hands settled events to a
    /// BlockingCollection that consumers (Get-MirrorEvent, the mirror service) take from.
    /// </summary>
    public sealed partial class MirrorWatch : IDisposable
    {
        private readonly WatchOptions _options;
        private readonly List<(ITreeWatcher Watcher, Coalescer Coalescer, ConcurrentQueue<RawChange> Raw)> _roots = new List<(ITreeWatcher, Coalescer, ConcurrentQueue<RawChange>)>();
        private readonly BlockingCollection<MirrorEvent> _ready = new BlockingCollection<MirrorEvent>(new ConcurrentQueue<MirrorEvent>());
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        // Set when the OS reports a change: an idle watch sleeps on it instead of ticking.
        private readonly AutoResetEvent _changed = new AutoResetEvent(false);
        private Thread _pump;
        private long _rawChanges, _emitted, _folds;

        internal MirrorWatch(int id, WatchOptions options)
        {
            Id = id;
            _options = options;
            Path = options.Roots.Select(r => System.IO.Path.GetFullPath(r).TrimEnd('/', '\\')).Select(r => r.Length == 0 ? "/" : r).ToList();
            (_backend, BackendNote) = WatcherFactory.Choose(options.Backend, Path);
            Backend = _backend.ToString();
            try { _subdirectories = Targets.MirrorTarget.SubdirectoriesFor(Path); }
            catch (ArgumentException)
            {
                // Roots with the same last segment can be watched, but not mirrored to one target (refused there).
                _subdirectories = Path.Distinct().ToDictionary(p => p, p => "");
            }
        }

        public int Id { get; }
        private IReadOnlyDictionary<string, string> _subdirectories;
        /// <summary>The watched roots, full paths. (Named like Get-MirrorWatch's Path; RealtimeMirror.Types.ps1xml adds the old name,
        /// Paths, as an alias property so scripts written against it keep working.)</summary>
        public IReadOnlyList<string> Path { get; }
        public WatchState State { get; private set; } = WatchState.Stopped;
        /// <summary>When the watch started, in local time (<see cref="StartedUtc"/>: the same in UTC).</summary>
        public DateTime Started => StartedUtc.ToLocalTime();
        public DateTime StartedUtc { get; private set; }
        public long RawChanges => Interlocked.Read(ref _rawChanges);
        public long EventsEmitted => Interlocked.Read(ref _emitted);
        /// <summary>Times events were lost to the OS's buffer, or folded into a Rescan because too many were queued.</summary>
        public long Overflows => _roots.Sum(r => r.Watcher.Overflows) + Interlocked.Read(ref _folds);
        /// <summary>Events still settling plus events ready and not yet taken.</summary>
        public int QueueLength => _roots.Sum(r => r.Raw.Count) + _pendingInCoalescers + _ready.Count;
        public TimeSpan Settle => _options.Settle;
        /// <summary>The OS interface the watch uses: "Fanotify", "Inotify" or "Portable" (FileSystemWatcher).</summary>
        public string Backend { get; }
        /// <summary>Which backend, and why (what Auto found, or that it was asked for).</summary>
        public string BackendNote { get; }
        private readonly WatchBackend _backend;

        private volatile int _pendingInCoalescers;

        public void Start()
        {
            foreach (var root in Path)
            {
                var raw = new ConcurrentQueue<RawChange>();
                var watcher = WatcherFactory.Create(_backend, root, _options.Exclude, raw, Fault, () => _changed.Set());
                _roots.Add((watcher, new Coalescer(_options.Settle, _options.MaxDelay), raw));
            }
            foreach (var r in _roots) r.Watcher.Start();
            StartedUtc = DateTime.UtcNow;
            State = WatchState.Running;
            _pump = new Thread(Pump) { IsBackground = true, Name = "RealtimeMirror watch " + Id };
            _pump.Start();
        }

        /// <summary>Queues a compare of a whole root (after an outage, or on a timer).</summary>
        public void RequestRescan(string root = null)
        {
            foreach (var r in _roots)
                if (root == null || string.Equals(r.Watcher.Root, System.IO.Path.GetFullPath(root).TrimEnd('/'), StringComparison.Ordinal))
                    r.Raw.Enqueue(new RawChange(ChangeType.Rescan, "", true, DateTime.UtcNow));
            _changed.Set();
        }

        /// <summary>
        /// Keeps memory bounded when nobody takes events fast enough: everything queued for the affected roots is
        /// replaced by one Rescan each, a full compare that brings the replica to the same end state.
        /// </summary>
        private void FoldIntoRescans(string root)
        {
            // Each Rescan carries the time of the oldest change it stands for: the planner content-compares files
            // whose ctime is from then on (SyncHint.ChangedSince), as the dropped events would have had it do.
            var oldest = new Dictionary<string, DateTime>(StringComparer.Ordinal) { [root] = DateTime.UtcNow };
            while (_ready.TryTake(out var dropped))
            {
                var t = dropped.TimeStampUtc;
                if (!oldest.TryGetValue(dropped.WatchRoot, out var was) || t < was) oldest[dropped.WatchRoot] = t;
                Interlocked.Increment(ref _droppedByFold);
            }
            foreach (var r in _roots)
                if (oldest.TryGetValue(r.Watcher.Root, out var since)) r.Coalescer.Add(new RawChange(ChangeType.Rescan, "", true, since));
            Interlocked.Increment(ref _folds);
        }

        private void Pump()
        {
            // Short ticks while something settles keep latency near the settle window; with nothing pending the
            // pump sleeps until the OS reports a change.
            var tick = TimeSpan.FromMilliseconds(Math.Max(5, Math.Min(25, _options.Settle.TotalMilliseconds / 4)));
            var rootCheck = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    int pending = 0;
                    int flush = FlushTicket(); // read before the raw queues: what they hold now is flushed
                    foreach (var r in _roots)
                    {
                        while (r.Raw.TryDequeue(out var c))
                        {
                            Interlocked.Increment(ref _rawChanges);
                            r.Coalescer.Add(c);
                        }
                        if (r.Coalescer.Count + _ready.Count > _options.MaxQueuedEvents) FoldIntoRescans(r.Watcher.Root);
                        foreach (var s in flush > 0 ? r.Coalescer.TakeAll() : r.Coalescer.TakeSettled(DateTime.UtcNow))
                        {
                            _ready.Add(ToEvent(r.Watcher.Root, s));
                            Interlocked.Increment(ref _emitted);
                        }
                        pending += r.Coalescer.Count;
                    }
                    _pendingInCoalescers = pending;
                    if (flush > 0) FlushServed(flush);
                    if (rootCheck.Elapsed >= TimeSpan.FromSeconds(1)) { CheckRoots(); rootCheck.Restart(); }
                    // Idle: sleep until the OS reports a change (or the once-a-second root check is due).
                    if (pending == 0) WaitHandle.WaitAny(new[] { _stop.Token.WaitHandle, _changed }, TimeSpan.FromSeconds(1));
                    else _stop.Token.WaitHandle.WaitOne(tick);
                }
            }
            catch (Exception e)
            {
                // The pump itself failed: say so on the watch (Get-MirrorWatch shows it) rather than going quiet.
                Fault("The watch stopped: " + e.Message);
                State = WatchState.Faulted;
            }
            finally
            {
                PumpEnded();
                _ready.CompleteAdding();
            }
        }

        /// <summary>
        /// A removed root gives no event and leaves a dead watch: check each root once a second. While one is gone
        /// the watch is Faulted with the reason (and the planner deletes nothing for it); when it is back it is
        /// watched again and compared whole.
        /// </summary>
        private void CheckRoots()
        {
            bool allThere = true;
            foreach (var r in _roots)
            {
                bool there = Directory.Exists(r.Watcher.Root);
                if (!there)
                {
                    allThere = false;
                    if (!r.Watcher.RootMissing)
                    {
                        r.Watcher.RootMissing = true;
                        Fault($"Watched root '{r.Watcher.Root}' is missing; nothing is deleted on the replicas until it is back.");
                        State = WatchState.Faulted;
                    }
                }
                else if (r.Watcher.RootMissing)
                {
                    r.Watcher.RootMissing = false;
                    try { r.Watcher.Restart(); }
                    catch (Exception e) { Fault($"Watched root '{r.Watcher.Root}' is back but cannot be watched: {e.Message}"); allThere = false; continue; }
                    r.Coalescer.Add(new RawChange(ChangeType.Rescan, "", true, DateTime.UtcNow));
                }
            }
            if (allThere && State == WatchState.Faulted && _roots.All(r => !r.Watcher.RootMissing)) State = WatchState.Running;
        }

        private MirrorEvent ToEvent(string root, (string Path, string OldPath, ChangeType Kind, bool IsDirectory, DateTime Time) s)
        {
            long? size = null;
            if (!s.IsDirectory && s.Kind != ChangeType.Deleted && s.Kind != ChangeType.Rescan)
            {
                try { size = LocalFileSystem.Stat(RelativePath.ToFull(root, s.Path), s.Path)?.Size; } catch (Exception) { }
            }
            return new MirrorEvent(root, s.Path, s.Kind, s.IsDirectory, size, s.Time, s.OldPath, Id, _subdirectories[root]);
        }

        public bool TryTake(out MirrorEvent e, int millisecondsTimeout, CancellationToken cancel)
        {
            try { return _ready.TryTake(out e, millisecondsTimeout, cancel); }
            catch (InvalidOperationException) { e = null; return false; } // completed: the watch stopped
        }

        public IEnumerable<MirrorEvent> GetConsumingEnumerable(CancellationToken cancel) => _ready.GetConsumingEnumerable(cancel);

        public void Stop()
        {
            if (State == WatchState.Stopped && _pump == null) return;
            _stop.Cancel();
            foreach (var r in _roots) r.Watcher.Dispose();
            _pump?.Join(TimeSpan.FromSeconds(5));
            if (State == WatchState.Running) State = WatchState.Stopped;
        }

        public void Dispose() => Stop();
    }
}
