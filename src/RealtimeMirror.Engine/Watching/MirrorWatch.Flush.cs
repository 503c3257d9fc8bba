using System;
using System.Threading;

namespace RealtimeMirror.Engine.Watching
{
    // Flush for a graceful shutdown: a change written just before SIGTERM sits in a coalescer waiting for its settle
    // window; the drain asks the pump to emit everything pending now, and waits until it has.
    public sealed partial class MirrorWatch
    {
        private readonly object _flushGate = new object();
        private int _flushRequested, _flushServed;
        private bool _pumpEnded;
        private long _droppedByFold;

        /// <summary>Events taken back out of the ready queue when it overflowed (replaced by a Rescan).</summary>
        public long EventsDropped => Interlocked.Read(ref _droppedByFold);

        /// <summary>
        /// Emits every pending change now, settled or not: what the OS reported before this call is in the ready
        /// queue (and counted in <see cref="EventsEmitted"/>) when it returns true. The watch keeps running.
        /// False when the pump has stopped or <paramref name="timeout"/> passed.
        /// </summary>
        public bool Flush(TimeSpan timeout)
        {
            int ticket;
            lock (_flushGate)
            {
                if (_pumpEnded || _pump == null) return false;
                ticket = ++_flushRequested;
            }
            _changed.Set();
            var deadline = DateTime.UtcNow + timeout;
            lock (_flushGate)
            {
                while (_flushServed < ticket)
                {
                    var left = deadline - DateTime.UtcNow;
                    if (_pumpEnded || left <= TimeSpan.Zero) return false;
                    Monitor.Wait(_flushGate, left);
                }
            }
            return true;
        }

        /// <summary>The pump's side: the newest request to serve in this round, or 0.</summary>
        private int FlushTicket()
        {
            lock (_flushGate) return _flushRequested > _flushServed ? _flushRequested : 0;
        }

        private void FlushServed(int ticket)
        {
            lock (_flushGate)
            {
                _flushServed = ticket;
                Monitor.PulseAll(_flushGate);
            }
        }

        private void PumpEnded()
        {
            lock (_flushGate)
            {
                _pumpEnded = true;
                Monitor.PulseAll(_flushGate);
            }
        }
    }
}
