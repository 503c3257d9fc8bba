using System;
using System.Threading;

namespace RealtimeMirror.Engine.Service
{
    /// <summary>
    /// When a target compares its whole tree again, unprompted: events cannot see a replica changed behind the
    /// service's back (an admin editing it, a restored snapshot, a bit flip), so every interval a full compare
    /// repairs such drift, as Syncthing's periodic rescan does. A zero interval disables it.
    /// </summary>
    internal sealed class VerifySchedule
    {
        // Monitor.Wait takes at most int.MaxValue ms; an idle worker wakes hourly at worst and sleeps again.
        private static readonly TimeSpan LongestWait = TimeSpan.FromHours(1);
        private readonly TimeSpan _interval;
        private DateTime _due;

        public VerifySchedule(TimeSpan interval, DateTime now)
        {
            _interval = interval;
            _due = Enabled ? now + interval : DateTime.MaxValue;
        }

        public bool Enabled => _interval > TimeSpan.Zero;

        /// <summary>True once per interval; the next one is due an interval from now.</summary>
        public bool TakeDue(DateTime now)
        {
            if (!Enabled || now < _due) return false;
            _due = now + _interval;
            return true;
        }

        /// <summary>How long a waiting worker may sleep before the next verify is due.</summary>
        public TimeSpan WaitFor(DateTime now)
        {
            if (!Enabled) return Timeout.InfiniteTimeSpan;
            var wait = _due - now;
            if (wait < TimeSpan.Zero) return TimeSpan.Zero;
            return wait > LongestWait ? LongestWait : wait;
        }
    }
}
