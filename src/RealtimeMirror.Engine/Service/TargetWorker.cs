using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Engine.Service
{
    /// <summary>
    /// Mirrors the hints of one watch to one target on its own thread. Its queue is its own, so a slow or down
    /// target never holds up the others. Every batch goes through the one planner (TargetSession.Sync). A lost
    /// connection puts the batch back and reconnects with backoff; per-entry failures go to a retry set that is
    /// hinted again with backoff, so a replica whose disk was full or whose directory was locked catches up without
    /// a restart. Every exception is caught and reported: this thread never dies silently, and an exception from the
    /// loop itself turns the target Retrying and starts it over (batch kept, fresh connection) instead of ending it.
    /// </summary>
    internal sealed partial class TargetWorker : IDisposable
    {
        private readonly MirrorTarget _target;
        private readonly ServiceOptions _options;
        private readonly object _gate = new object();
        private readonly HintQueue _queue;
        // Failed entries: when to try again (backoff), and since when the change behind it waits (its first report).
        private readonly Dictionary<(string Root, string Path), (DateTime Due, DateTime Since)> _retry = new Dictionary<(string, string), (DateTime, DateTime)>();
        private readonly Thread _thread;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly Backoff _backoff;
        private readonly Backoff _retryBackoff;
        private readonly Dictionary<string, SourceRoot> _sources = new Dictionary<string, SourceRoot>(StringComparer.Ordinal);
        private readonly IReadOnlyDictionary<string, string> _subdirectories;
        // One session per root: with several roots each mirrors into its own replica subdirectory.
        private readonly Dictionary<string, TargetSession> _sessions = new Dictionary<string, TargetSession>(StringComparer.Ordinal);
        private readonly Dictionary<string, SyncWatermark> _watermarks = new Dictionary<string, SyncWatermark>(StringComparer.Ordinal);
        private readonly VerifySchedule _verify;
        private bool _verifyQueued;
        // This target's settings (saved with it, the command line overriding): see Targets/TargetSettings.
        private GlobFilter _exclude = GlobFilter.None;
        private DeleteMode _deleteMode = DeleteMode.Always;
        // The initial sync is the first batch; it stays pending across reconnects (the state shows Connecting/Retrying
        // meanwhile), so its deletes follow the startup rule even when the connection drops in the middle.
        private bool _initialPending;
        // Mass-deletion halt: the threshold for this target, and the admin's word (Resume-MirrorTarget or
        // -AllowMassDelete) that the next plan may go past it.
        private Sync.HaltThreshold _halt = Sync.HaltThreshold.Default;
        private bool _resumeRequested;
        private bool _allowMassDelete;

        public TargetWorker(MirrorTarget target, ServiceOptions options)
        {
            _target = target;
            _options = options;
            _queue = new HintQueue(options.MaxQueuedEvents);
            _backoff = new Backoff(options.RetryFirst, options.RetryMax);
            _retryBackoff = new Backoff(options.RetryFirst, options.RetryMax);
            foreach (var root in options.Roots)
            {
                _sources[root] = new SourceRoot(root);
                _watermarks[root] = new SyncWatermark(options.WatermarkDirectory, target, root);
            }
            _subdirectories = MirrorTarget.SubdirectoriesFor(options.Roots);
            Status = new TargetStatus { Target = target.Name, State = TargetState.Connecting };
            _verify = new VerifySchedule(options.VerifyInterval, DateTime.UtcNow);
            _thread = new Thread(Run) { IsBackground = true, Name = "RealtimeMirror target " + target.Name };
        }

        public TargetStatus Status { get; }

        public void Start() => _thread.Start();

        public void Enqueue(MirrorEvent e)
        {
            _options.BeforeEnqueueForTests?.Invoke(_target.Name, e);
            lock (_gate)
            {
                foreach (var h in SyncHint.FromEvent(e))
                    _queue.Add(e.WatchRoot, h, e.TimeStampUtc);
                UpdateQueueStatus();
                Monitor.Pulse(_gate);
            }
        }

        private void UpdateQueueStatus()
        {
            Status.QueueLength = _queue.Count + _queue.InFlight;
            Status.RetrySetSize = _retry.Count;
            var oldest = _queue.OldestSince;
            foreach (var r in _retry.Values) if (oldest == null || r.Since < oldest) oldest = r.Since;
            Status.OldestPendingUtc = oldest;
        }

        /// <summary>Waits for hints (or retries that fell due) and takes a batch into flight.</summary>
        private bool TryTake(out List<(string Root, List<SyncHint> Hints)> batch, CancellationToken cancel)
        {
            using (cancel.Register(() => { lock (_gate) Monitor.PulseAll(_gate); }))
            lock (_gate)
            {
                while (true)
                {
                    if (cancel.IsCancellationRequested) { batch = null; return false; }
                    var wait = QueueRetriesDue();
                    var verifyWait = QueueVerifyDue();
                    if (wait == Timeout.InfiniteTimeSpan || (verifyWait != Timeout.InfiniteTimeSpan && verifyWait < wait)) wait = verifyWait;
                    if (_queue.Count > 0) break;
                    UpdateQueueStatus();
                    if (Status.State == TargetState.Syncing) Status.State = TargetState.Idle;
                    Monitor.Wait(_gate, wait);
                }
                batch = _queue.Take(_options.MaxBatch);
                UpdateQueueStatus();
                return true;
            }
        }

        /// <summary>Moves retries that are due into the queue; returns how long until the next one is (infinite when none).</summary>
        private TimeSpan QueueRetriesDue()
        {
            if (_retry.Count == 0) return Timeout.InfiniteTimeSpan;
            var now = DateTime.UtcNow;
            var next = DateTime.MaxValue;
            foreach (var r in _retry.ToList())
            {
                if (r.Value.Due <= now)
                {
                    // Queued as old as its first report (lag, watermark), and content-compared for everything changed since
                    // then: a file below a failed directory may have been rewritten same-size while it waited.
                    var since = r.Value.Since;
                    _queue.Add(r.Key.Root, new SyncHint(r.Key.Path, subtree: true, contentChanged: true, changedSince: SyncHint.ChangedSinceFor(since)), since);
                    _retry.Remove(r.Key);
                }
                else if (r.Value.Due < next) next = r.Value.Due;
            }
            return next == DateTime.MaxValue ? Timeout.InfiniteTimeSpan : next - now;
        }

        /// <summary>Queues the periodic whole-tree compare when due; returns how long until the next one.</summary>
        private TimeSpan QueueVerifyDue()
        {
            var now = DateTime.UtcNow;
            if (_verify.TakeDue(now))
            {
                foreach (var root in _options.Roots) _queue.Add(root, SyncHint.WholeTree(), now);
                _verifyQueued = true;
            }
            return _verify.WaitFor(now);
        }

        private void Run()
        {
            var cancel = _stop.Token;
            using var trace = Logging.MirrorTrace.Use(TraceSink());
            try
            {
                try
                {
                    // Read here, not in the constructor: a missing exclude file is reported as this target's failure.
                    _exclude = TargetSettings.ExcludeFor(_target, _options.Exclude.Patterns);
                    _deleteMode = _options.DeleteMode ?? _target.DeleteMode ?? DeleteMode.Always;
                    _halt = Sync.HaltThreshold.Parse(_target.HaltThreshold ?? Sync.HaltThreshold.DefaultText);
                    _allowMassDelete = _options.AllowMassDelete;
                    _versions = Versions.VersionPolicy.For(_target);
                }
                catch (Exception e)
                {
                    Report("", e);
                    Status.State = TargetState.Failed; // a broken setting stays broken until an admin fixes it
                    return;
                }
                bool first = true;
                while (!cancel.IsCancellationRequested)
                {
                    try
                    {
                        Serve(first, cancel);
                        return; // stopped, or refused for good
                    }
                    catch (OperationCanceledException) when (cancel.IsCancellationRequested) { return; }
                    catch (Exception e)
                    {
                        // Nothing in the loop should throw; when something does (a bug, an unforeseen failure), this
                        // target says so and starts over: Retrying, the batch kept, a fresh connection after a backoff.
                        Report("", e);
                        lock (_gate) { _queue.Restore(); UpdateQueueStatus(); }
                        DropSession();
                        var delay = _backoff.Next();
                        Status.State = TargetState.Retrying;
                        Status.NextRetryUtc = DateTime.UtcNow + delay;
                        if (cancel.WaitHandle.WaitOne(delay)) return;
                    }
                    first = false;
                }
            }
            finally
            {
                DropSession();
                foreach (var s in _sources.Values) s.Dispose();
                Status.State = Status.State == TargetState.Failed ? TargetState.Failed : TargetState.Stopped;
            }
        }

        /// <summary>Connects, queues the initial sync the first time, then applies batches until stopped or refused for good.</summary>
        private void Serve(bool first, CancellationToken cancel)
        {
            if (!Connect(cancel)) return;
            if (first && _options.InitialSync)
            {
                // Files written since the last moment this replica was known in sync (before a kill, a stop or a
                // reboot) are content-compared: their events were never seen.
                lock (_gate)
                    foreach (var root in _options.Roots) _queue.Add(root, SyncHint.WholeTree(_watermarks[root].Read()), DateTime.UtcNow);
                _initialPending = true;
            }
            if (!_initialPending) { StartupDone = true; Status.State = TargetState.Idle; }
            while (TryTake(out var batch, cancel))
            {
                _options.BeforeBatchForTests?.Invoke(_target.Name); // outside the batch's own error handling
                Status.State = _initialPending ? TargetState.InitialSync : TargetState.Syncing;
                if (!ApplyBatch(batch, cancel)) return;
                PruneVersionsIfDue(cancel);
                if (_initialPending)
                {
                    _initialPending = false;
                    Status.State = TargetState.Idle;
                    ReturnStartupMemory();
                    StartupDone = true;
                }
            }
        }

        /// <summary>Applies one batch, reconnecting as often as it takes. False when the target was refused for good.</summary>
        private bool ApplyBatch(List<(string Root, List<SyncHint> Hints)> batch, CancellationToken cancel)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var (filesBefore, bytesBefore) = (Status.FilesApplied, Status.BytesSent); // for the -Verbose batch line
            while (true)
            {
                try
                {
                    var failed = new List<(string, string)>();
                    foreach (var (root, hints) in batch)
                    {
                        var source = _sources[root];
                        try
                        {
                            foreach (var path in _sessions[root].Sync(source, hints, SyncOptionsFor(cancel))) failed.Add((root, path));
                        }
                        catch (SourceRootMissingException e)
                        {
                            // Nothing is deleted while the root is gone; compare it whole once it is back.
                            Report("", e);
                            failed.Add((root, ""));
                        }
                    }
                    lock (_gate)
                    {
                        var now = DateTime.UtcNow;
                        var due = now + (failed.Count > 0 ? _retryBackoff.Next() : TimeSpan.Zero);
                        if (failed.Count == 0) _retryBackoff.Reset();
                        var sinceOf = failed.Count > 0 ? _queue.InFlightSinces() : null;
                        foreach (var f in failed)
                        {
                            var since = sinceOf(f.Item1, f.Item2) ?? _queue.OldestSince ?? now;
                            if (_retry.TryGetValue(f, out var earlier) && earlier.Since < since) since = earlier.Since;
                            _retry[f] = (due, since);
                        }
                        _queue.Complete();
                        UpdateQueueStatus();
                        AdvanceWatermarks();
                    }
                    Status.Applied += batch.Sum(b => b.Hints.Count);
                    Status.LastSyncUtc = DateTime.UtcNow;
                    _allowMassDelete = false;
                    TraceBatch(batch, failed.Count, started, Status.FilesApplied - filesBefore, Status.BytesSent - bytesBefore);
                    if (_verifyQueued && batch.Any(b => b.Hints.Any(h => h.Path.Length == 0 && h.Subtree)))
                    {
                        _verifyQueued = false;
                        Status.VerifyCount++;
                        Status.LastVerifyUtc = Status.LastSyncUtc;
                    }
                    return true;
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    lock (_gate) _queue.Restore();
                    throw;
                }
                catch (MassDeletionHaltedException h)
                {
                    // Nothing of this batch was applied (the plan is checked before it runs). Keep it and everything
                    // queued after it, and wait for an admin.
                    Report("", h);
                    var before = Status.State;
                    lock (_gate)
                    {
                        _queue.Restore();
                        UpdateQueueStatus();
                        Status.State = TargetState.Halted;
                        while (!_resumeRequested && !cancel.IsCancellationRequested) Monitor.Wait(_gate, 500);
                        if (cancel.IsCancellationRequested) throw new OperationCanceledException(cancel);
                        _resumeRequested = false;
                        _allowMassDelete = true;
                        Status.State = before;
                        batch = _queue.Take(_options.MaxBatch);
                        UpdateQueueStatus();
                    }
                }
                catch (Exception ex)
                {
                    // Lost connection, or anything unexpected: the batch goes back, the session is rebuilt, we try again.
                    // The target is Retrying from this moment (LastError says why) until a connection is up again: an
                    // admin sees an unreachable host within the I/O timeout, not after a reconnect attempt timed out too.
                    Report("", ex);
                    lock (_gate) { _queue.Restore(); UpdateQueueStatus(); }
                    DropSession();
                    Status.State = TargetState.Retrying;
                    if (!ReplicaFailure.IsConnectionLost(ex))
                    {
                        var delay = _backoff.Next();
                        Status.NextRetryUtc = DateTime.UtcNow + delay;
                        if (cancel.WaitHandle.WaitOne(delay)) throw new OperationCanceledException(cancel);
                    }
                    if (!Connect(cancel))
                    {
                        if (cancel.IsCancellationRequested) throw new OperationCanceledException(cancel);
                        return false;
                    }
                    Status.State = _initialPending ? TargetState.InitialSync : TargetState.Syncing;
                    lock (_gate) batch = _queue.Take(_options.MaxBatch);
                }
            }
        }

        /// <summary>
        /// After a batch: everything reported before the oldest change still queued or in flight is on the replica,
        /// unless something waits for a retry (then the mark stays where it was). Called under the gate.
        /// </summary>
        private void AdvanceWatermarks()
        {
            if (_retry.Count > 0) return;
            var inSyncBefore = SyncHint.ChangedSinceFor(_queue.OldestSince ?? DateTime.UtcNow);
            foreach (var w in _watermarks.Values) w.Advance(inSyncBefore);
        }

        /// <summary>
        /// The initial sync of a big tree holds its whole plan for a while; a service then idles for days,
        /// so hand that memory back to the OS once instead of keeping the peak resident.
        /// </summary>
        private static void ReturnStartupMemory()
        {
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        }

        /// <summary>Connects, retrying with backoff while the target is unreachable. False when stopped or refused for good.</summary>
        private bool Connect(CancellationToken cancel)
        {
            while (!cancel.IsCancellationRequested)
            {
                try
                {
                    // Retrying stays Retrying through reconnect attempts: the state says the host is unreachable until it is not.
                    if (Status.State != TargetState.Retrying) Status.State = TargetState.Connecting;
                    foreach (var root in _options.Roots)
                        if (!_sessions.ContainsKey(root)) _sessions[root] = TargetSession.Open(_target.ForSubdirectory(_subdirectories[root]), false, cancel);
                    _backoff.Reset();
                    Status.NextRetryUtc = null;
                    return true;
                }
                catch (TargetUnavailableException e) when (e.IsPermanent)
                {
                    Report("", e);
                    Status.State = TargetState.Failed; // wrong key or host key: retrying cannot help
                    return false;
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested) { return false; }
                catch (Exception e)
                {
                    Report("", e);
                    var delay = _backoff.Next();
                    Status.State = TargetState.Retrying;
                    Status.NextRetryUtc = DateTime.UtcNow + delay;
                    if (cancel.WaitHandle.WaitOne(delay)) return false;
                }
            }
            return false;
        }

        private SyncOptions SyncOptionsFor(CancellationToken cancel) => new SyncOptions
        {
            Exclude = _exclude,
            // The first batch is the initial sync (with the events queued meanwhile); later ones are changes seen running.
            Delete = _initialPending
                ? TargetSettings.DeletesAtStartup(_deleteMode)
                : TargetSettings.DeletesWhileRunning(_deleteMode),
            Cancel = cancel,
            HaltThreshold = _halt,
            AllowMassDelete = _allowMassDelete,
            KeepVersions = _versions,
            OnResult = r =>
            {
                Status.BytesSent += r.Bytes;
                Status.FilesApplied++;
                _options.OnResult(r);
            },
            OnError = Report,
            OnWarning = (path, why) => _options.OnError(_target.Name, path, new NotSupportedException(why)),
        };

        private void Report(string relativePath, Exception e)
        {
            Status.Errors++;
            Status.LastError = TargetErrorText.Of(_target.Name, relativePath, e.Message); // the status names the target like its errors
            Status.LastErrorTimeUtc = DateTime.UtcNow;
            try { _options.OnError(_target.Name, relativePath, e); } catch (Exception) { /* a reporter must not kill the worker */ }
        }

        private void DropSession()
        {
            foreach (var s in _sessions.Values) { try { s.Dispose(); } catch (Exception) { } }
            _sessions.Clear();
        }

        /// <summary>Lets a halted target apply its next plan whatever it deletes. False when it is not halted.</summary>
        public bool Resume()
        {
            lock (_gate)
            {
                if (Status.State != TargetState.Halted) return false;
                _resumeRequested = true;
                Monitor.PulseAll(_gate);
                return true;
            }
        }

        public void Stop()
        {
            _stop.Cancel();
            lock (_gate) Monitor.PulseAll(_gate);
        }

        public bool Join(TimeSpan timeout) => _thread.Join(timeout);

        public void Dispose()
        {
            Stop();
            _thread.Join(TimeSpan.FromSeconds(10));
        }
    }
}
