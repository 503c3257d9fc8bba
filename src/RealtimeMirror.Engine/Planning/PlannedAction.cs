namespace RealtimeMirror.Engine.Planning
{
    public enum ActionKind
    {
        MakeDirectory,
        /// <summary>Send the file whole: absent on the replica, or its size differs.</summary>
        SendFile,
        /// <summary>Same size, other mtime: compare content, then send or only set metadata (a mere touch).</summary>
        CheckContent,
        SetMetadata,
        MakeSymlink,
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
        /// <summary>Housekeeping the user did not ask about (a new directory's time after its contents landed): no result.</summary>
        public bool Quiet { get; }

        public override string ToString() => $"{Kind} {RelativePath}";
    }
}
