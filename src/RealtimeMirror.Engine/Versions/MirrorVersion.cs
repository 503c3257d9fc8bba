using System;
using RealtimeMirror.Engine.Planning;

namespace RealtimeMirror.Engine.Versions
{
    /// <summary>One kept version of one replica path: what the mirror moved aside when it deleted or overwrote it.</summary>
    public sealed class MirrorVersion
    {
        internal MirrorVersion(string target, string subdirectory, string sourceRoot, string stamp, DateTime time, FileMeta entry, string path)
        {
            Target = target;
            Subdirectory = subdirectory ?? "";
            SourceRoot = sourceRoot;
            Stamp = stamp;
            TimeUtc = time;
            Entry = entry;
            Path = path;
        }

        public string Target { get; }
        /// <summary>'/'-separated path below the replica (and source) root, as it was when kept.</summary>
        public string Path { get; }
        /// <summary>When the mirror moved it aside, in local time: the time of the change that deleted or overwrote it.</summary>
        public DateTime Time => TimeUtc.ToLocalTime();
        /// <summary>The same in UTC (the stamp's own time).</summary>
        public DateTime TimeUtc { get; }
        public long Size => Entry.Size;
        public EntryKind Kind => Entry.Kind;
        /// <summary>The kept entry's own last write time, in local time (LastWriteTimeUtc: the same in UTC).</summary>
        public DateTime LastWriteTime => LastWriteTimeUtc.ToLocalTime();
        public DateTime LastWriteTimeUtc => DateTimeOffset.FromUnixTimeSeconds(Entry.MTime).UtcDateTime.AddTicks(Entry.MTimeNanos / 100);
        /// <summary>Permission bits as octal text (0644).</summary>
        public string Mode => Entry.Mode < 0 ? null : Convert.ToString(Entry.Mode, 8).PadLeft(4, '0');
        /// <summary>Where the version is, relative to the replica root: .rtm-versions/STAMP/PATH.</summary>
        public string VersionPath => Entry.RelativePath;
        /// <summary>The replica subdirectory of the source root (several roots on one target); "" for a single root.</summary>
        public string Subdirectory { get; }
        /// <summary>The source root this replica mirrors, when the target knows it (set by the syncs that used it).</summary>
        public string SourceRoot { get; }
        /// <summary>The path this version restores to in the source, when the source root is known.</summary>
        public string SourcePath => SourceRoot == null ? null : Paths.RelativePath.ToFull(SourceRoot, Path);
        /// <summary>The stamp directory's name (ISO 8601 basic, UTC).</summary>
        public string Stamp { get; }

        internal FileMeta Entry { get; }

        public override string ToString() => $"{Path} @ {Time:yyyy-MM-dd HH:mm:ss.fff}Z ({Target})";
    }
}
