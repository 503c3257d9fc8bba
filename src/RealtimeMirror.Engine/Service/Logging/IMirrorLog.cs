using System;

namespace RealtimeMirror.Engine.Service.Logging
{
    /// <summary>
    /// A place records go. Called from worker threads while they sync: Write must be thread-safe, return quickly and
    /// never throw (a broken log must not stop mirroring; the sink counts what it could not write instead).
    /// </summary>
    public interface IMirrorLog : IDisposable
    {
        void Write(LogRecord record);
    }

    /// <summary>Several sinks as one (the file and the journal); a sink that throws anyway is skipped.</summary>
    public sealed class FanOutLog : IMirrorLog
    {
        private readonly IMirrorLog[] _sinks;

        public FanOutLog(params IMirrorLog[] sinks) { _sinks = sinks; }

        public void Write(LogRecord record)
        {
            foreach (var s in _sinks)
            {
                try { s.Write(record); } catch (Exception) { /* a sink's own failure must not reach the worker */ }
            }
        }

        public void Dispose()
        {
            foreach (var s in _sinks)
            {
                try { s.Dispose(); } catch (Exception) { }
            }
        }
    }
}
