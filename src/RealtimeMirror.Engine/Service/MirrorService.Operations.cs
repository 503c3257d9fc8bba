using System;
using System.Globalization;
using System.Linq;
using System.Threading;

namespace RealtimeMirror.Engine.Service
{
    // What a long-lived service host needs (systemd readiness and status, the drain on SIGTERM, giving up when no
    // target can ever succeed), kept apart from the fan-out itself.
    public sealed partial class MirrorService
    {
        /// <summary>
        /// Start-up is over: every target finished its initial sync (or connected, without -InitialSync), or is
        /// down and retrying, or failed for good, or halted before a mass deletion (an admin must look: STATUS= says so).
        /// Systemd's READY=1 waits for this.
        /// </summary>
        public bool StartupDone => _workers.All(w => w.StartupDone || w.Status.State is TargetState.Retrying or TargetState.Failed or TargetState.Stopped or TargetState.Halted);

        /// <summary>Every target is refused for good (host key changed, authentication refused): nothing left to do.</summary>
        public bool AllFailed => _workers.Count > 0 && _workers.All(w => w.Status.State == TargetState.Failed);

        /// <summary>One line for systemd's STATUS=: each target's state, queue and lag.</summary>
        public string StatusLine() => string.Join("; ", _workers.Select(w =>
        {
            var s = w.Status;
            return string.Format(CultureInfo.InvariantCulture, "{0}: {1}, queue {2}, lag {3:0.0} s", s.Target, s.State, s.QueueLength, s.Lag.TotalSeconds);
        }));

        /// <summary>
        /// Sends what is pending before a shutdown: the watch keeps running, its unsettled changes are emitted now,
        /// and this waits until every target that can still make progress has an empty queue and no batch in flight.
        /// Twice, so changes the OS reported while the first round ran (a file written just before SIGTERM whose
        /// event was still being read) go too. False when <paramref name="timeout"/> passed first.
        /// </summary>
        public bool Drain(TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            for (int round = 0; round < 2; round++)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return false;
                _watch.Flush(left); // false only when the watch stopped: then what it emitted is all there is
                var emitted = _watch.EventsEmitted;
                while (Interlocked.Read(ref _fannedOut) + _watch.EventsDropped < emitted
                       || _workers.Any(w => !w.IsIdle && w.Status.State is not (TargetState.Failed or TargetState.Stopped or TargetState.Halted)))
                {
                    if (DateTime.UtcNow >= deadline) return false;
                    Thread.Sleep(10);
                }
            }
            return true;
        }
    }
}
