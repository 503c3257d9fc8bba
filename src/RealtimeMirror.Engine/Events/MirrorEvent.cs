using System;

namespace RealtimeMirror.Engine.Events
{
    /// <summary>One settled change below a watched root. Immutable: it travels through user pipelines.</summary>
    public sealed class MirrorEvent
    {
        public MirrorEvent(string watchRoot, string relativePath, ChangeType changeType, bool isDirectory,
            long? size, DateTime timeStamp, string oldRelativePath = null, int watchId = 0, string replicaSubdirectory = "")
        {
            ReplicaSubdirectory = replicaSubdirectory ?? "";
            WatchRoot = watchRoot;
            RelativePath = relativePath ?? "";
            ChangeType = changeType;
            IsDirectory = isDirectory;
            Size = size;
            TimeStampUtc = UtcTime.Of(timeStamp);
            OldRelativePath = oldRelativePath;
            WatchId = watchId;
            Path = Paths.RelativePath.ToFull(watchRoot, RelativePath);
            OldPath = oldRelativePath == null ? null : Paths.RelativePath.ToFull(watchRoot, oldRelativePath);
        }

        /// <summary>Full local path of the entry (its new name for a rename).</summary>
        public string Path { get; }
        /// <summary>'/'-separated path below <see cref="WatchRoot"/>; "" for the root itself (a root Rescan).</summary>
        public string RelativePath { get; }
        /// <summary>Full former path, for renames.</summary>
        public string OldPath { get; }
        public string OldRelativePath { get; }
        public ChangeType ChangeType { get; }
        public bool IsDirectory { get; }
        /// <summary>Size in bytes when the event settled; null for deletes and directories.</summary>
        public long? Size { get; }
        /// <summary>Time of the last raw change folded into this event, in local time; for a Rescan, of the oldest change it
        /// stands for (files changed from shortly before then on are content-compared, see SyncHint.ChangedSince).</summary>
        public DateTime TimeStamp => TimeStampUtc.ToLocalTime();
        /// <summary><see cref="TimeStamp"/> in UTC.</summary>
        public DateTime TimeStampUtc { get; }
        public string WatchRoot { get; }
        public int WatchId { get; }
        /// <summary>Where the root lives on a replica: "" (the replica root) when the watch has one root, else the
        /// root's last segment (several roots share a target, each in its own subdirectory).</summary>
        public string ReplicaSubdirectory { get; }

        public override string ToString() =>
            OldRelativePath == null ? $"{ChangeType} {RelativePath}" : $"{ChangeType} {OldRelativePath} -> {RelativePath}";
    }
}
