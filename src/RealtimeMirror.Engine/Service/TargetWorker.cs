using System;
using System.Collections.Generic;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Engine.Service
{
    /// <summary>
    /// Applies the events of one watch to one target on its own thread. The queue is its own, so a slow or
    /// down target never holds up the others; while the target is down its queue keeps growing up to a bound,
    /// past which it is folded into one Rescan of the roots (a full compare loses nothing). Connection losses
    /// are retried with backoff; the event that failed is applied again after reconnecting.
    /// </summary>
    internal sealed class TargetWorker : IDisposable
    {
        private readonly MirrorTarget _target;
        private readonly ServiceOptions _options;
        private readonly object _gate = new object();
        private readonly LinkedList<MirrorEvent> _queue = new LinkedList<MirrorEvent>();
        private readonly Thread _thread;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly Backoff _backoff;
        private TargetSession _session;
        private bool _collapsed;

        public TargetWorker(MirrorTarget target, ServiceOptions options)
        {
            _target = target;
            _options = options;
            _backoff = new Backoff(options.RetryFirst, options.RetryMax);
            Status = new TargetStatus { Target = target.Name, State = TargetState.Connecting };
            _thread = new Thread(Run) { IsBackground = true, Name = "RealtimeMirror target " + target.Name };
        }

        public TargetStatus Status { get; }

        public void Start() => _thread.Start();

        public void Enqueue(MirrorEvent e)
        {
            lock (_gate)
            {
                if (_collapsed) return; // a pending Rescan of every root already covers it
                _queue.AddLast(e);
                if (_queue.Count > _options.MaxQueuedEvents)
                {
                    // Bounded memory during a long outage: one Rescan per root replaces everything queued.
                    _queue.Clear();
                    foreach (var root in _options.Roots)
                        _queue.AddLast(new MirrorEvent(root, "", ChangeType.Rescan, true, null, DateTime.UtcNow));
                    _collapsed = true;
                }
                Status.QueueLength = _queue.Count;
                Monitor.Pulse(_gate);
            }
        }

        /// <summary>Waits for events and returns up to <paramref name="max"/> of them from the head, leaving them queued.</summary>
        private bool TryPeek(out List<MirrorEvent> batch, int max, CancellationToken cancel)
        {
            // Stopping pulses the gate, so an idle worker sleeps without polling.
            using (cancel.Register(() => { lock (_gate) Monitor.PulseAll(_gate); }))
            lock (_gate)
            {
                while (_queue.Count == 0)
                {
                    if (cancel.IsCancellationRequested) { batch = null; return false; }
                    Status.Lag = TimeSpan.Zero;
                    if (Status.State == TargetState.Syncing) Status.State = TargetState.Idle;
                    Monitor.Wait(_gate);
                }
                batch = new List<MirrorEvent>(Math.Min(max, _queue.Count));
                foreach (var e in _queue) { batch.Add(e); if (batch.Count == max) break; }
                Status.Lag = DateTime.UtcNow - batch[0].TimeStamp;
                return true;
            }
        }

        /// <summary>Removes events only once they were applied: after a lost connection they are applied again.</summary>
        private void Dequeue(int count)
        {
            lock (_gate)
            {
                for (int i = 0; i < count && _queue.Count > 0; i++) _queue.RemoveFirst();
                if (_queue.Count == 0) _collapsed = false;
                Status.QueueLength = _queue.Count;
            }
        }

        private void Run()
        {
            var cancel = _stop.Token;
            try
            {
                if (!Connect(cancel)) return;
                if (_options.InitialSync) InitialSync(cancel);
                while (TryPeek(out var batch, _options.MaxBatch, cancel))
                {
                    Status.State = TargetState.Syncing;
                    try
                    {
                        // Applying is idempotent (the source is checked as it is now), so a batch cut short is simply applied again.
                        _session.Events.ApplyBatch(batch, SyncOptionsFor(cancel));
                        Dequeue(batch.Count);
                        Status.Applied += batch.Count;
                        Status.LastSync = DateTime.UtcNow;
                    }
                    catch (OperationCanceledException) when (cancel.IsCancellationRequested) { return; }
                    catch (Exception ex) when (ReplicaFailure.IsConnectionLost(ex))
                    {
                        Report(batch[0].RelativePath, ex);
                        DropSession();
                        if (!Connect(cancel)) return; // the events stay queued and are applied again
                    }
                    catch (Exception ex)
                    {
                        // Something in this batch cannot be applied: go one by one so the rest still land.
                        Report(batch[0].RelativePath, ex);
                        try { ApplyOneByOne(batch, cancel); }
                        catch (OperationCanceledException) when (cancel.IsCancellationRequested) { return; }
                        catch (Exception lost) when (ReplicaFailure.IsConnectionLost(lost))
                        {
                            DropSession();
                            if (!Connect(cancel)) return;
                        }
                    }
                }
            }
            finally
            {
                DropSession();
                Status.State = Status.State == TargetState.Failed ? TargetState.Failed : TargetState.Stopped;
            }
        }

        private void ApplyOneByOne(List<MirrorEvent> batch, CancellationToken cancel)
        {
            foreach (var e in batch)
            {
                try { _session.Events.Apply(e, SyncOptionsFor(cancel)); }
                catch (Exception ex) when (!ReplicaFailure.IsConnectionLost(ex)) { Report(e.RelativePath, ex); }
                Dequeue(1);
                Status.Applied++;
            }
        }

        private void InitialSync(CancellationToken cancel)
        {
            while (!cancel.IsCancellationRequested)
            {
                Status.State = TargetState.InitialSync;
                try
                {
                    foreach (var root in _options.Roots)
                        _session.SyncTree(root, SyncOptionsFor(cancel, delete: true), allowDelta: true);
                    Status.LastSync = DateTime.UtcNow;
                    Status.State = TargetState.Idle;
                    ReturnStartupMemory();
                    return;
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested) { return; }
                catch (Exception ex) when (ReplicaFailure.IsConnectionLost(ex))
                {
                    Report("", ex);
                    DropSession();
                    if (!Connect(cancel)) return;
                }
            }
        }

        /// <summary>
        /// The initial sync of a big tree holds its whole file list for a while; a service then idles for days,
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
                    Status.State = TargetState.Connecting;
                    _session = TargetSession.Open(_target, false, cancel);
                    _backoff.Reset();
                    Status.NextRetry = null;
                    return true;
                }
                catch (TargetUnavailableException e) when (e.IsPermanent)
                {
                    Report("", e);
                    Status.State = TargetState.Failed; // wrong key or host key: retrying cannot help
                    return false;
                }
                catch (Exception e) when (ReplicaFailure.IsConnectionLost(e) && !cancel.IsCancellationRequested)
                {
                    Report("", e);
                    var delay = _backoff.Next();
                    Status.State = TargetState.Retrying;
                    Status.NextRetry = DateTime.UtcNow + delay;
                    if (cancel.WaitHandle.WaitOne(delay)) return false;
                }
                catch (OperationCanceledException) { return false; }
            }
            return false;
        }

        private SyncOptions SyncOptionsFor(CancellationToken cancel, bool delete = true) => new SyncOptions
        {
            Delete = delete,
            Exclude = _options.Exclude,
            Cancel = cancel,
            OnResult = r =>
            {
                Status.BytesSent += r.Bytes;
                _options.OnResult(r);
            },
            OnError = Report,
        };

        private void Report(string relativePath, Exception e)
        {
            Status.Errors++;
            Status.LastError = e.Message;
            _options.OnError(_target.Name, relativePath, e);
        }

        private void DropSession()
        {
            try { _session?.Dispose(); } catch (Exception) { }
            _session = null;
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
