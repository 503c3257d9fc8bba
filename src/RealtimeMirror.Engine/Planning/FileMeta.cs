namespace RealtimeMirror.Engine.Planning
{
    public enum EntryKind { File, Directory, Symlink }

    /// <summary>
    /// What we know of one entry of a tree, on either side. Times are whole Unix seconds because both
    /// SFTP v3 and rsync protocol 27 carry nothing finer; comparing at finer grain would re-copy forever.
    /// </summary>
    public sealed class FileMeta
    {
        public FileMeta(string relativePath, EntryKind kind, long size, long mtime, int mode, int uid, int gid, string linkTarget)
        {
            RelativePath = relativePath;
            Kind = kind;
            Size = size;
            MTime = mtime;
            Mode = mode;
            Uid = uid;
            Gid = gid;
            LinkTarget = linkTarget;
        }

        /// <summary>'/'-separated path below the tree root; "" is the root itself.</summary>
        public string RelativePath { get; }
        public EntryKind Kind { get; }
        public long Size { get; }
        /// <summary>Last write time, Unix seconds.</summary>
        public long MTime { get; }
        /// <summary>Permission bits (07777); -1 when the platform has none.</summary>
        public int Mode { get; }
        /// <summary>-1 when unknown.</summary>
        public int Uid { get; }
        /// <summary>-1 when unknown.</summary>
        public int Gid { get; }
        /// <summary>Target of a symlink, as stored in the link.</summary>
        public string LinkTarget { get; }

        public bool IsDirectory => Kind == EntryKind.Directory;

        public FileMeta WithPath(string relativePath) =>
            new FileMeta(relativePath, Kind, Size, MTime, Mode, Uid, Gid, LinkTarget);

        public override string ToString() => $"{Kind} {RelativePath} size={Size} mtime={MTime} mode={System.Convert.ToString(Mode < 0 ? 0 : Mode, 8)}";
    }
}
