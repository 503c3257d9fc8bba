namespace RealtimeMirror.Engine.Planning
{
    /// <summary>The quick check, rsync-style: size and whole-second mtime decide; content is read only on a tie of size.</summary>
    public static class EntryComparer
    {
        /// <summary>The action that makes <paramref name="replica"/> equal to <paramref name="source"/>; null when already equal.
        /// A kind mismatch returns null too: the caller deletes the replica entry first (see <see cref="KindsDiffer"/>).</summary>
        public static ActionKind? Compare(FileMeta source, FileMeta replica, bool compareOwner)
        {
            if (replica == null)
                return source.Kind == EntryKind.Directory ? ActionKind.MakeDirectory
                    : source.Kind == EntryKind.Symlink ? ActionKind.MakeSymlink : ActionKind.SendFile;
            if (KindsDiffer(source, replica)) return null;
            switch (source.Kind)
            {
                case EntryKind.Symlink:
                    // A replica whose link target we cannot read is compared by length (lstat size of a link).
                    bool same = replica.LinkTarget != null ? replica.LinkTarget == source.LinkTarget : replica.Size == source.Size;
                    return same ? (ActionKind?)null : ActionKind.MakeSymlink;
                case EntryKind.File:
                    if (source.Size != replica.Size) return ActionKind.SendFile;
                    if (source.MTime != replica.MTime) return ActionKind.CheckContent;
                    return MetadataDiffers(source, replica, compareOwner) ? ActionKind.SetMetadata : (ActionKind?)null;
                default:
                    // Directory mtimes are fixed after their children are written (writing children changes them).
                    return ModeOrOwnerDiffers(source, replica, compareOwner) ? ActionKind.SetMetadata : (ActionKind?)null;
            }
        }

        public static bool KindsDiffer(FileMeta source, FileMeta replica) => replica != null && source.Kind != replica.Kind;

        public static bool MetadataDiffers(FileMeta source, FileMeta replica, bool compareOwner) =>
            source.MTime != replica.MTime || ModeOrOwnerDiffers(source, replica, compareOwner);

        private static bool ModeOrOwnerDiffers(FileMeta source, FileMeta replica, bool compareOwner)
        {
            if (source.Mode >= 0 && replica.Mode >= 0 && source.Mode != replica.Mode) return true;
            if (compareOwner && source.Uid >= 0 && (source.Uid != replica.Uid || source.Gid != replica.Gid)) return true;
            return false;
        }
    }
}
