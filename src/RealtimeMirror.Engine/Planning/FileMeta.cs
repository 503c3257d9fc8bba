namespace RealtimeMirror.Engine.Planning
{
    /// <summary>Fifo, Socket, CharDevice and BlockDevice are "special": never opened, recreated where the transport can.</summary>
    public enum EntryKind { File, Directory, Symlink, Fifo, Socket, CharDevice, BlockDevice }

    /// <summary>
    /// What we know of one entry of a tree, on either side, from one lstat/fstat. Names are strings in the project's
    /// <see cref="Paths.PathEncoding"/> (undecodable bytes carried as lone surrogates). Times are Unix seconds plus
    /// nanoseconds; each transport compares at the precision it can set (see <see cref="EntryComparer"/>).
    /// </summary>
    public sealed class FileMeta
    {
        public FileMeta(string relativePath, EntryKind kind, long size, long mtime, int mode, long uid, long gid, string linkTarget)
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
        /// <summary>Nanoseconds past <see cref="MTime"/>; 0 where the side cannot tell (SFTP v3, rsync protocol 27).</summary>
        public int MTimeNanos { get; init; }
        /// <summary>Permission bits (07777); -1 when the platform has none.</summary>
        public int Mode { get; }
        /// <summary>Owner as an unsigned 32-bit id (0..4294967295); -1 when unknown.</summary>
        public long Uid { get; }
        /// <summary>Group as an unsigned 32-bit id; -1 when unknown.</summary>
        public long Gid { get; }
        /// <summary>Target of a symlink, as stored in the link.</summary>
        public string LinkTarget { get; }
        /// <summary>Device number (st_rdev) of a character or block device.</summary>
        public long DeviceNumber { get; init; }
        /// <summary>File system (st_dev) and inode (st_ino) of the entry: with LinkCount &gt; 1 they identify hard links. 0 when unknown.</summary>
        public long Device { get; init; }
        public long Inode { get; init; }
        public int LinkCount { get; init; } = 1;
        /// <summary>
        /// Status change time (ctime) in Unix nanoseconds, read on the source only (0 where unknown). Every write,
        /// chmod or rename moves it and no user call sets it back, so it tells a same-size rewrite whose mtime was put
        /// back apart from an untouched file: see <see cref="SyncHint.ChangedSince"/>.
        /// </summary>
        public long ChangeTimeNs { get; init; }

        public bool IsDirectory => Kind == EntryKind.Directory;
        public bool IsSpecial => Kind >= EntryKind.Fifo;

        public FileMeta WithPath(string relativePath) =>
            new FileMeta(relativePath, Kind, Size, MTime, Mode, Uid, Gid, LinkTarget)
            { MTimeNanos = MTimeNanos, DeviceNumber = DeviceNumber, Device = Device, Inode = Inode, LinkCount = LinkCount, ChangeTimeNs = ChangeTimeNs };

        public override string ToString() => $"{Kind} {RelativePath} size={Size} mtime={MTime}.{MTimeNanos:D9} mode={System.Convert.ToString(Mode < 0 ? 0 : Mode, 8)}";
    }
}
