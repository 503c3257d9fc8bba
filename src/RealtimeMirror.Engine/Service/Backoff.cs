using System;

namespace RealtimeMirror.Engine.Service
{
    /// <summary>Retry delays that double from a floor to a ceiling and reset after a success.</summary>
    public sealed class Backoff
    {
        private readonly TimeSpan _first, _max;
        private TimeSpan _next;

        public Backoff(TimeSpan first, TimeSpan max) { _first = first; _max = max; _next = first; }

        public TimeSpan Next()
        {
            var d = _next;
            _next = TimeSpan.FromTicks(Math.Min(_max.Ticks, _next.Ticks * 2));
            return d;
        }

        public void Reset() => _next = _first;
    }
}
