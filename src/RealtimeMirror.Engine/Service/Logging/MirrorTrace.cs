using System;

namespace RealtimeMirror.Engine.Service.Logging
{
    /// <summary>
    /// -Verbose lines from deep inside the engine (the SSH connection, the host-key check, the rsync command line)
    /// without threading a callback through every constructor: each target worker sets a sink for its own thread.
    /// With no sink (no -Verbose) <see cref="Enabled"/> is false and callers build no strings, so it costs one
    /// thread-static read. The sink only hands the line on (to the pipeline's queue and the log).
    /// </summary>
    public static class MirrorTrace
    {
        [ThreadStatic] private static Action<string> t_sink;

        public static bool Enabled => t_sink != null;

        /// <summary>This thread's sink, for work it hands to another thread (null: none).</summary>
        public static Action<string> Current => t_sink;

        public static void Write(string line)
        {
            var sink = t_sink;
            if (sink == null) return;
            try { sink(line); } catch (Exception) { /* tracing must never break a sync */ }
        }

        /// <summary>Sets this thread's sink until the returned scope is disposed (null: off).</summary>
        public static IDisposable Use(Action<string> sink)
        {
            var previous = t_sink;
            t_sink = sink;
            return new Scope(previous);
        }

        private sealed class Scope : IDisposable
        {
            private readonly Action<string> _previous;
            public Scope(Action<string> previous) { _previous = previous; }
            public void Dispose() => t_sink = _previous;
        }
    }
}
