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
        public static bool IsConnectionLost(Exception e) =>
            e is TargetUnavailableException || e is SshConnectionException || e is SocketException ||
            e is ObjectDisposedException || e is SshOperationTimeoutException ||
            (e is InvalidOperationException && e.Message.IndexOf("not connected", StringComparison.OrdinalIgnoreCase) >= 0) ||
            (e is IOException && e.InnerException is SocketException) ||
            e is OperationCanceledException;
    }
}
