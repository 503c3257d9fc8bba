namespace RealtimeMirror.Engine.Planning
{
    public enum ActionKind
    {
        MakeDirectory,
        /// <summary>Send the file: absent on the replica, its size differs, or its content is unknown.</summary>
        SendFile,
        /// <summary>Size equal, content possibly not (other mtime, or a write was seen): compare content, then send
        /// or only set metadata (a mere touch).</summary>
        CheckContent,
        SetMetadata,
        MakeSymlink,
        /// <summary>A fifo or device node (made only where the transport can).</summary>
        MakeSpecial,
        Delete,
        Rename,
    }

    /// <summary>One step of a plan. Source is what the entry must become; Replica is what is there now (or null).</summary>
    public sealed class PlannedAction
    {
        public PlannedAction(ActionKind kind, string relativePath, FileMeta source, FileMeta replica, string oldRelativePath = null, bool quiet = false)
        {
            Quiet = quiet;
            Kind = kind;
            RelativePath = relativePath;
            Source = source;
            Replica = replica;
            OldRelativePath = oldRelativePath;
        }

        public ActionKind Kind { get; }
        public string RelativePath { get; }
        public string OldRelativePath { get; }
        public FileMeta Source { get; }
        public FileMeta Replica { get; }
        /// <summary>Housekeeping the user did not ask about (a directory's time after its contents changed): no result, no prompt.</summary>
        public bool Quiet { get; }

        /// <summary>For a content check: owner, mode and time already match, so only the content can need a change.
        /// An entry that may share its inode can then still be read first: equal content means nothing is written.</summary>
        public bool MetadataMatches { get; set; }

        public bool IsDirectory => (Source ?? Replica)?.Kind == EntryKind.Directory;

        public override string ToString() => OldRelativePath == null ? $"{Kind} {RelativePath}" : $"{Kind} {OldRelativePath} -> {RelativePath}";
    }
}
