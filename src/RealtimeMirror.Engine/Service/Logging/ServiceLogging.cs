using System;
using RealtimeMirror.Engine.Results;

namespace RealtimeMirror.Engine.Service.Logging
{
    /// <summary>
    /// Puts the log between the workers and the caller's callbacks: every applied action, error and verbose line is
    /// written to <see cref="ServiceOptions.Log"/> right on the worker thread (so background mode, which has no
    /// pipeline to write to, logs too), then handed to the caller's callback as before.
    /// </summary>
    internal static class ServiceLogging
    {
        public static void Attach(ServiceOptions o)
        {
            var log = o.Log;
            if (log == null) return;
            var onResult = o.OnResult;
            var onError = o.OnError;
            var onVerbose = o.OnVerbose;
            var onStatusError = o.OnStatusError;
            o.OnResult = r => { log.Write(ForResult(r)); onResult(r); };
            o.OnError = (target, path, e) => { log.Write(ForError(target, path, e)); onError(target, path, e); };
            o.OnStatusError = e => { log.Write(new LogRecord(MirrorLogLevel.Warning, null, null, "StatusFile", e.Message)); onStatusError(e); };
            if (onVerbose != null)
                o.OnVerbose = (target, line) => { log.Write(new LogRecord(MirrorLogLevel.Debug, target, null, "Verbose", line)); onVerbose(target, line); };
        }

        /// <summary>Every fault of the watch (those Start met included) as a warning: a directory left unwatched, a lost root.</summary>
        public static void AttachWatch(Watching.MirrorWatch watch, ServiceOptions o)
        {
            var log = o.Log;
            if (log != null) watch.FollowFaults(m => log.Write(new LogRecord(MirrorLogLevel.Warning, null, null, "WatchFault", m)));
        }

        public static LogRecord ForResult(SyncResult r) =>
            new LogRecord(MirrorLogLevel.Info, r.Target, r.RelativePath, r.Action.ToString(), null,
                r.IsDirectory || r.Action == SyncAction.Deleted || r.Action == SyncAction.Renamed ? (long?)null : r.Bytes, r.OldRelativePath);

        public static LogRecord ForError(string target, string path, Exception e) =>
            // OnWarning reaches OnError as NotSupportedException: something left out on purpose, not a failure.
            new LogRecord(e is NotSupportedException ? MirrorLogLevel.Warning : MirrorLogLevel.Error, target, path,
                e is NotSupportedException ? "Skipped" : "Error", e.Message);
    }
}
