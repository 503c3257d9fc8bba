using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Engine.Service
{
    /// <summary>
    /// Watch + sync in the background: one thread takes the watch's settled events and hands a copy to each
    /// target's worker. The watch is started by the caller before this, so nothing written during the initial
    /// sync is missed: those events simply wait in the queues.
    /// </summary>
    public sealed partial class MirrorService : IDisposable
    {
        private readonly MirrorWatch _watch;
        private readonly List<TargetWorker> _workers;
        private readonly Thread _fanOut;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly ServiceOptions _options;
        private long _fannedOut;
        private readonly StatusPublisher _status;

        public MirrorService(MirrorWatch watch, IEnumerable<MirrorTarget> targets, ServiceOptions options)
        {
            _watch = watch;
            _options = options;
            Logging.ServiceLogging.Attach(options); // before the workers start: they log from their own threads
            Logging.ServiceLogging.AttachWatch(watch, options);
            _workers = targets.Select(t => new TargetWorker(t, options)).ToList();
            _fanOut = new Thread(FanOut) { IsBackground = true, Name = "RealtimeMirror fan-out " + watch.Id };
            // Status for Get-/Stop-MirrorWatch in other processes.
            _status = new StatusPublisher(options.StatusDirectory ?? RuntimeDirectory.Resolve(), () => ServiceStatusFile.Capture(_watch, Targets), options.OnStatusError);
        }

        public IReadOnlyList<TargetStatus> Targets => _workers.Select(w => w.Status).ToList();

        /// <summary>Resumes the halted targets whose name matches; returns their names.</summary>
        public IReadOnlyList<string> Resume(Func<string, bool> nameMatches)
        {
            var resumed = new List<string>();
            foreach (var w in _workers)
                if (nameMatches(w.Status.Target) && w.Resume()) resumed.Add(w.Status.Target);
            return resumed;
        }

        public void Start()
        {
            foreach (var w in _workers) w.Start();
            _fanOut.Start();
            _status.Start();
        }

        private void FanOut()
        {
            try
            {
                foreach (var e in _watch.GetConsumingEnumerable(_stop.Token))
                {
                    foreach (var w in _workers)
                    {
                        // One event that cannot be queued must not end the fan-out (every later change would stop
                        // reaching the targets): it is reported, and that target compares the tree whole instead.
                        try { w.Enqueue(e); }
                        catch (Exception ex) when (!(ex is OperationCanceledException)) { ReportFanOutError(w, e, ex); }
                    }
                    Interlocked.Increment(ref _fannedOut); // the drain waits until every emitted event got here
                }
            }
            catch (OperationCanceledException) { }
        }

        private void ReportFanOutError(TargetWorker w, MirrorEvent e, Exception ex)
        {
            try
            {
                _options.OnError(w.Status.Target, e.RelativePath ?? "", ex);
                w.Enqueue(new MirrorEvent(e.WatchRoot, "", ChangeType.Rescan, true, null, DateTime.UtcNow, null, _watch.Id));
            }
            catch (Exception) { /* a reporter must not end the fan-out either */ }
        }

        /// <summary>Asks every target to compare the whole tree again (after an outage the admin knows of, or on a timer).</summary>
        public void RequestRescan()
        {
            foreach (var root in _watch.Path)
                foreach (var w in _workers) w.Enqueue(new MirrorEvent(root, "", ChangeType.Rescan, true, null, DateTime.UtcNow, null, _watch.Id));
        }

        public void Stop()
        {
            _stop.Cancel();
            foreach (var w in _workers) w.Stop();
            foreach (var w in _workers) w.Join(TimeSpan.FromSeconds(10));
            _status.Stop();
            _options.Log?.Dispose(); // after the workers: their last results are logged
        }

        public void Dispose() => Stop();
    }
}
