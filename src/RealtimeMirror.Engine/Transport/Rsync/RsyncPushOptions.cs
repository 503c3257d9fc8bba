using System;
using System.Collections.Generic;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    public sealed class RsyncPushOptions
    {
        /// <summary>The list is a whole tree starting at "." (needed for Delete).</summary>
        public bool Recursive { get; set; } = true;
        /// <summary>Remove receiver entries not in the list, in the directories the list covers.</summary>
        public bool Delete { get; set; }
        public bool PreserveLinks { get; set; } = true;
        public bool PreservePerms { get; set; } = true;
        public bool PreserveTimes { get; set; } = true;
        public bool PreserveOwner { get; set; }
        public bool PreserveGroup { get; set; }
        /// <summary>Patterns the receiver must not delete (our excludes), sent as the filter list.</summary>
        public IReadOnlyList<string> ProtectFromDelete { get; set; } = Array.Empty<string>();
    }

    /// <summary>One file the receiver asked for, and how it was sent.</summary>
    public sealed class RsyncFileReport
    {
        public string RelativePath { get; internal set; }
        /// <summary>The receiver had an old version to build from (delta), rather than nothing.</summary>
        public bool HadBasis { get; internal set; }
        public long LiteralBytes { get; internal set; }
        public long MatchedBytes { get; internal set; }
        /// <summary>The file changed while it was read; it is sent again afterwards.</summary>
        public bool ChangedDuringTransfer { get; internal set; }
        /// <summary>Why the file could not be read (it was not sent); null when it was sent.</summary>
        public Exception ReadError { get; internal set; }
    }

    public sealed class RsyncPushSummary
    {
        public long LiteralBytes { get; internal set; }
        public long MatchedBytes { get; internal set; }
        public long BytesSent { get; internal set; }
        public long BytesReceived { get; internal set; }
        public int FilesRequested { get; internal set; }
        public IReadOnlyList<string> ServerMessages { get; internal set; } = Array.Empty<string>();
        /// <summary>Relative paths the receiver deleted (from its "deleting ..." log lines).</summary>
        public IReadOnlyList<string> Deleted { get; internal set; } = Array.Empty<string>();
        /// <summary>Files that changed while being read (sent again).</summary>
        public IReadOnlyList<string> Changed { get; internal set; } = Array.Empty<string>();
    }
}
