namespace RealtimeMirror.Engine.Planning
{
    /// <summary>
    /// Decides, for one path present on both sides or one only, which action makes the replica equal. Times are
    /// compared at the precision the replica's times are read with (whole seconds over SFTP v3, nanoseconds locally);
    /// a write the watcher saw is never trusted to the quick check.
    /// </summary>
    public sealed class EntryComparer
    {
        private readonly bool _compareOwner;
        private readonly int _resolution;
        private readonly bool _linkTimes;
        private readonly bool _times32Bit;

        /// <param name="linkTimes">The transport can set a symlink's own mtime (locally, and through rsync; not SFTP v3).</param>
        /// <param name="times32Bit">Replica times are read as unsigned 32-bit seconds (SFTP v3; see IReplica.TimesAre32Bit).</param>
        public EntryComparer(bool compareOwner, int timeResolutionNanos, bool linkTimes = true, bool times32Bit = false)
        {
            _compareOwner = compareOwner;
            _linkTimes = linkTimes;
            _times32Bit = times32Bit;
            _resolution = timeResolutionNanos <= 0 ? 1 : timeResolutionNanos;
        }

        /// <summary>The action for an entry whose kinds agree (or that the replica lacks); null when equal.</summary>
        public ActionKind? Compare(FileMeta source, FileMeta replica, bool contentChanged)
        {
            if (replica == null)
            {
                switch (source.Kind)
                {
                    case EntryKind.Directory: return ActionKind.MakeDirectory;
                    case EntryKind.Symlink: return ActionKind.MakeSymlink;
                    case EntryKind.File: return ActionKind.SendFile;
                    default: return ActionKind.MakeSpecial;
                }
            }
            switch (source.Kind)
            {
                case EntryKind.Symlink:
                    // A replica whose link target we cannot read is compared by length (lstat size of a link).
                    bool same = replica.LinkTarget != null ? replica.LinkTarget == source.LinkTarget : replica.Size == source.Size;
                    if (!same) return ActionKind.MakeSymlink;
                    return OwnerDiffers(source, replica) || (_linkTimes && !SameTime(source, replica)) ? ActionKind.SetMetadata : (ActionKind?)null;
                case EntryKind.File:
                    if (source.Size != replica.Size) return ActionKind.SendFile;
                    if (contentChanged || !SameTime(source, replica)) return ActionKind.CheckContent;
                    return ModeOrOwnerDiffers(source, replica) ? ActionKind.SetMetadata : (ActionKind?)null;
                case EntryKind.Directory:
                    return MetadataDiffers(source, replica) ? ActionKind.SetMetadata : (ActionKind?)null;
                default:
                    if (source.DeviceNumber != replica.DeviceNumber) return ActionKind.MakeSpecial;
                    return MetadataDiffers(source, replica) ? ActionKind.SetMetadata : (ActionKind?)null;
            }
        }

        public static bool KindsDiffer(FileMeta source, FileMeta replica) => replica != null && source.Kind != replica.Kind;

        public bool MetadataDiffers(FileMeta source, FileMeta replica) => !SameTime(source, replica) || ModeOrOwnerDiffers(source, replica);

        /// <summary>Equal at the transport's precision: the replica's time is the source's, truncated to what it can hold.</summary>
        public bool SameTime(FileMeta source, FileMeta replica)
        {
            if (source.MTime != replica.MTime && !SameAs32Bit(source.MTime, replica.MTime)) return false;
            if (_resolution >= 1_000_000_000) return true;
            return source.MTimeNanos / _resolution == replica.MTimeNanos / _resolution;
        }

        /// <summary>
        /// A source time outside 1970-2106 against a replica read over SFTP v3: the replica's true time (set exactly by an
        /// rsync push) shows as its low 32 bits, and one set over SFTP was clamped to the range. Either is as equal as this
        /// transport can tell; calling it different would reset the time over SFTP at every sync, and wrongly.
        /// </summary>
        private bool SameAs32Bit(long source, long replica) =>
            _times32Bit && (source < 0 || source > uint.MaxValue) &&
            (replica == (source & 0xFFFFFFFFL) || replica == System.Math.Clamp(source, 0L, uint.MaxValue));

        /// <summary>True when SFTP v3 can carry this time (1970-2106); other times can only be set through rsync.</summary>
        public static bool Fits32Bit(long mtime) => mtime >= 0 && mtime <= uint.MaxValue;

        private bool ModeOrOwnerDiffers(FileMeta source, FileMeta replica)
        {
            if (source.Mode >= 0 && replica.Mode >= 0 && ExpectedMode(source) != replica.Mode) return true;
            return OwnerDiffers(source, replica);
        }

        /// <summary>Where the owner is not set, the set-id bits are dropped (as rsync does): expect that on the replica.</summary>
        private int ExpectedMode(FileMeta source) => _compareOwner ? source.Mode : source.Mode & ~0xC00;

        private bool OwnerDiffers(FileMeta source, FileMeta replica) =>
            _compareOwner && source.Uid >= 0 && (source.Uid != replica.Uid || source.Gid != replica.Gid);
    }
}
