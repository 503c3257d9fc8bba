using System;

namespace RealtimeMirror.Engine.Service
{
    public enum TargetState { Connecting, InitialSync, Idle, Syncing, Retrying, Failed, Stopped,
        /// <summary>A plan would have deleted or overwritten more of the replica than the halt threshold allows (or the
        /// source root was emptied): nothing is applied, hints keep queueing, until Resume-MirrorTarget.</summary>
        Halted }

    /// <summary>What one target of a running mirror service is doing; read by Get-MirrorWatch. Times are local, each with
    /// its UTC twin (*Utc).</summary>
    public sealed class TargetStatus
    {
        public string Target { get; internal set; }
        public TargetState State { get; internal set; }
        /// <summary>Events waiting for this target (they survive an outage).</summary>
        public int QueueLength { get; internal set; }
        public long Applied { get; internal set; }
        public long Errors { get; internal set; }
        public long BytesSent { get; internal set; }
        public string LastError { get; internal set; }
        /// <summary>When the last batch was applied, in local time (LastSyncUtc: the same in UTC).</summary>
        public DateTime? LastSync => UtcTime.Local(LastSyncUtc);
        public DateTime? LastSyncUtc { get; internal set; }
        /// <summary>Age of the oldest change not yet on the replica (queued, in flight or waiting for a retry):
        /// how far the replica trails the source. It keeps growing while the target is down.</summary>
        public TimeSpan Lag => OldestPendingUtc is DateTime t ? DateTime.UtcNow - t : TimeSpan.Zero;
        /// <summary>Time of the oldest change not yet on the replica, in local time; null when it is up to date.</summary>
        public DateTime? OldestPending => UtcTime.Local(OldestPendingUtc);
        public DateTime? OldestPendingUtc { get; internal set; }
        /// <summary>Paths whose last attempt failed (disk full, permission, I/O error); retried with backoff.</summary>
        public int RetrySetSize { get; internal set; }
        /// <summary>Entries created, updated or deleted on the replica.</summary>
        public long FilesApplied { get; internal set; }
        public DateTime? LastErrorTime => UtcTime.Local(LastErrorTimeUtc);
        public DateTime? LastErrorTimeUtc { get; internal set; }
        /// <summary>When the next connection attempt is due while Retrying.</summary>
        public DateTime? NextRetry => UtcTime.Local(NextRetryUtc);
        public DateTime? NextRetryUtc { get; internal set; }
        /// <summary>Periodic whole-tree compares (-VerifyInterval) completed, and when the last one finished.</summary>
        public long VerifyCount { get; internal set; }
        public DateTime? LastVerify => UtcTime.Local(LastVerifyUtc);
        public DateTime? LastVerifyUtc { get; internal set; }

        public override string ToString() => $"{Target}: {State}, queue {QueueLength}, lag {Lag.TotalMilliseconds:0} ms";
    }
}
