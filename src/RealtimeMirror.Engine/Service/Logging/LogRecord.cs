using System;

namespace RealtimeMirror.Engine.Service.Logging
{
    /// <summary>Severity of a log record; the numbers are syslog's (and the journal's PRIORITY).</summary>
    public enum MirrorLogLevel { Error = 3, Warning = 4, Info = 6, Debug = 7 }

    /// <summary>
    /// One thing the service did or hit: an applied action, an error, a lifecycle step, or a -Verbose line (Debug).
    /// Target and path are kept apart from the message so every sink can index them.
    /// </summary>
    public sealed class LogRecord
    {
        public LogRecord(MirrorLogLevel level, string target, string path, string action, string message, long? bytes = null, string oldPath = null)
        {
            Time = DateTime.UtcNow;
            Level = level;
            Target = target ?? "";
            Path = path ?? "";
            Action = action ?? "";
            Message = message ?? "";
            Bytes = bytes;
            OldPath = oldPath;
        }

        public DateTime Time { get; }
        public MirrorLogLevel Level { get; }
        public string Target { get; }
        /// <summary>Relative to the watched root (names are bytes: undecodable ones are carried as lone surrogates).</summary>
        public string Path { get; }
        /// <summary>Copied, Updated, Deleted, Renamed, MetadataOnly, Error, Batch, Started, ...</summary>
        public string Action { get; }
        public string Message { get; }
        public long? Bytes { get; }
        public string OldPath { get; }
    }
}
