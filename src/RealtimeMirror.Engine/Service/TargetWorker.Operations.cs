using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Service.Logging;

namespace RealtimeMirror.Engine.Service
{
    // What running as a long-lived service needs from a worker: -Verbose lines, "startup done" for systemd's
    // READY=1, and "nothing left to send" for the drain on SIGTERM. Kept apart from the sync loop itself.
    internal sealed partial class TargetWorker
    {
        /// <summary>Connected and, with -InitialSync, the first whole-tree compare done.</summary>
        public volatile bool StartupDone;

        /// <summary>Nothing queued and no batch in flight (failed entries waiting for a retry do not count).</summary>
        public bool IsIdle
        {
            get { lock (_gate) return _queue.Count == 0 && _queue.InFlight == 0; }
        }

        /// <summary>This worker thread's -Verbose sink, or null (then the engine builds no trace lines at all).</summary>
        private Action<string> TraceSink()
        {
            var onVerbose = _options.OnVerbose;
            if (onVerbose == null) return null;
            var name = _target.Name;
            return line => onVerbose(name, line);
        }

        /// <summary>The -Verbose line of a batch: its size (hints taken, entries applied, bytes sent) and duration.</summary>
        private void TraceBatch(List<(string Root, List<SyncHint> Hints)> batch, int failed, long started, long entries, long bytes)
        {
            if (!MirrorTrace.Enabled) return;
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            MirrorTrace.Write($"Batch of {batch.Sum(b => b.Hints.Count)} hint(s) in {batch.Count} root(s) done in {ms:0} ms: {entries} entries applied, {bytes} B sent" +
                (failed > 0 ? $", {failed} path(s) failed and wait for a retry" : "") + $"; queue {Status.QueueLength}.");
        }
    }
}
