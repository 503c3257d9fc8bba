using System;
using RealtimeMirror.Engine.Planning;

namespace RealtimeMirror.Engine.Platform.Native
{
    /// <summary>
    /// statx(2) and its decoding. statx is used rather than struct stat because its layout is the same on every
    /// Linux architecture. Ids are unsigned 32-bit (3000000000 is a valid uid), device numbers are rebuilt with
    /// glibc's makedev so they match what ls and mknod show.
    /// </summary>
    internal struct StatX
    {
        private const uint STATX_BASIC_STATS = 0x7ff;

        public int Mode;          // type and permission bits
        public long Uid, Gid;
        public long Size, MTime;
        public int MTimeNanos;
        /// <summary>Status change time (ctime) in Unix nanoseconds: no user call can set it back, unlike mtime.</summary>
        public long ChangeTimeNs;
        public long Inode, Device, RDevice;
        public int LinkCount;

        public int Type => Mode & Flags.S_IFMT;

        /// <summary>statx on dirfd+path with flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH); 0 or the errno.</summary>
        public static unsafe int Get(int dirfd, byte[] path, int flags, out StatX st)
        {
            st = default;
            byte* buf = stackalloc byte[256];
            if (LibC.statx(dirfd, path, flags, STATX_BASIC_STATS, buf) != 0) return Errno.Last;
            st.LinkCount = (int)Math.Min(*(uint*)(buf + 16), int.MaxValue);
            st.Uid = *(uint*)(buf + 20);
            st.Gid = *(uint*)(buf + 24);
            st.Mode = *(ushort*)(buf + 28);
            st.Inode = (long)*(ulong*)(buf + 32);
            st.Size = (long)*(ulong*)(buf + 40);
            st.MTime = *(long*)(buf + 112);
            st.MTimeNanos = (int)*(uint*)(buf + 120);
            st.ChangeTimeNs = *(long*)(buf + 96) * 1_000_000_000L + *(uint*)(buf + 104);
            st.RDevice = MakeDev(*(uint*)(buf + 128), *(uint*)(buf + 132));
            st.Device = MakeDev(*(uint*)(buf + 136), *(uint*)(buf + 140));
            return 0;
        }

        /// <summary>fstat of an open descriptor.</summary>
        public static int OfFd(int fd, out StatX st) => Get(fd, EmptyPath, Flags.AT_EMPTY_PATH, out st);

        /// <summary>lstat of a name in a directory descriptor.</summary>
        public static int NoFollow(int dirfd, byte[] name, out StatX st) => Get(dirfd, name, Flags.AT_SYMLINK_NOFOLLOW, out st);

        private static readonly byte[] EmptyPath = { 0 };

        /// <summary>glibc's makedev: 12+20 bit split of the classic encoding, the rest above bit 32.</summary>
        public static long MakeDev(uint major, uint minor) =>
            (long)((((ulong)major & 0xfffff000) << 32) | (((ulong)major & 0xfff) << 8) |
                   (((ulong)minor & 0xffffff00) << 12) | ((ulong)minor & 0xff));

        public static EntryKind KindOf(int type)
        {
            switch (type)
            {
                case Flags.S_IFREG: return EntryKind.File;
                case Flags.S_IFDIR: return EntryKind.Directory;
                case Flags.S_IFLNK: return EntryKind.Symlink;
                case Flags.S_IFIFO: return EntryKind.Fifo;
                case Flags.S_IFSOCK: return EntryKind.Socket;
                case Flags.S_IFCHR: return EntryKind.CharDevice;
                case Flags.S_IFBLK: return EntryKind.BlockDevice;
                default: return EntryKind.File; // no other types exist on Linux
            }
        }

        /// <summary>
        /// The FileMeta of this stat. Size is the byte count of a regular file or of a link's target; 0 for the
        /// rest (a directory's st_size differs between file systems and would only cause spurious updates).
        /// </summary>
        public FileMeta ToMeta(string relativePath, string linkTarget, int linkTargetBytes)
        {
            var kind = KindOf(Type);
            long size = kind == EntryKind.File ? Size : kind == EntryKind.Symlink ? linkTargetBytes : 0;
            return new FileMeta(relativePath, kind, size, MTime, Mode & 0xFFF, Uid, Gid, kind == EntryKind.Symlink ? linkTarget : null)
            {
                MTimeNanos = MTimeNanos,
                ChangeTimeNs = ChangeTimeNs,
                DeviceNumber = kind == EntryKind.CharDevice || kind == EntryKind.BlockDevice ? RDevice : 0,
                Device = Device,
                Inode = Inode,
                LinkCount = LinkCount,
            };
        }
    }
}
