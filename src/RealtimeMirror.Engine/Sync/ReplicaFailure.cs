using System;
using System.IO;
using System.Net.Sockets;
using RealtimeMirror.Engine.Targets;
using Renci.SshNet.Common;

namespace RealtimeMirror.Engine.Sync
{
    /// <summary>Tells a failure of one entry (report it, go on) from a failure of the connection (stop, retry later).</summary>
    public static class ReplicaFailure
    {
        /// <summary>
        /// True when <paramref name="e"/> or anything it wraps says the connection is gone or timed out. The wrapped
        /// causes count: a request that timed out inside a step that adds context ("cannot check replica directory")
        /// is still a dead link, and taking it for a per-entry failure would make every later entry of the batch wait
        /// out the I/O timeout again before the target is seen as unreachable.
        /// </summary>
        public static bool IsConnectionLost(Exception e)
        {
            for (int depth = 0; e != null && depth < 8; depth++)
            {
                if (IsConnectionLostItself(e)) return true;
                e = e is AggregateException a && a.InnerExceptions.Count == 1 ? a.InnerExceptions[0] : e.InnerException;
            }
            return false;
        }

        private static bool IsConnectionLostItself(Exception e) =>
            e is TargetUnavailableException || e is SshConnectionException || e is SocketException ||
            e is ObjectDisposedException || e is SshOperationTimeoutException ||
            (e is InvalidOperationException && e.Message.IndexOf("not connected", StringComparison.OrdinalIgnoreCase) >= 0) ||
            e is OperationCanceledException;
    }
}
