using System;

namespace RealtimeMirror.Engine.Results
{
    /// <summary>What one action did to one replica entry.</summary>
    public sealed class SyncResult
    {
        public SyncResult(string target, string relativePath, SyncAction action, bool isDirectory = false,
            long bytes = 0, long literalBytes = 0, long matchedBytes = 0, string transport = null,
            string oldRelativePath = null, string sourcePath = null, TimeSpan duration = default)
        {
            Target = target;
            RelativePath = relativePath;
            Action = action;
            IsDirectory = isDirectory;
            Bytes = bytes;
            LiteralBytes = literalBytes;
            MatchedBytes = matchedBytes;
            Transport = transport;
            OldRelativePath = oldRelativePath;
            Path = sourcePath;
            Duration = duration;
        }

        /// <summary>Full source path, when there is one (not for deletes of extraneous replica entries).</summary>
        public string Path { get; }
        public string RelativePath { get; }
        public string OldRelativePath { get; }
        public SyncAction Action { get; }
        public bool IsDirectory { get; }
        /// <summary>File data bytes sent to the replica (literal data for delta transfers).</summary>
        public long Bytes { get; }
        /// <summary>Delta transfers: bytes sent as literal data.</summary>
        public long LiteralBytes { get; }
        /// <summary>Delta transfers: bytes the replica rebuilt from blocks it already had.</summary>
        public long MatchedBytes { get; }
        public string Target { get; }
        /// <summary>Local, Sftp or Rsync.</summary>
        public string Transport { get; }
        public TimeSpan Duration { get; }

        public override string ToString() => $"{Action} {RelativePath} ({Bytes} B) -> {Target}";
    }
}
