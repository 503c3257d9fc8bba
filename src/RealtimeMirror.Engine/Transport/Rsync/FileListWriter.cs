using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// The file list as rsync's receiver reads it, each entry sent whole (no "same as the previous" shortcuts): flags
    /// (never 0, which ends the list), name, length, mtime, mode, then only what the server's options ask for: uid, gid
    /// (unsigned 32-bit, --numeric-ids), rdev (-D), link target (-l), hard-link identity (-H). Protocol 27 has a flags
    /// byte and int32 fields; 28-29 add extended flags; 30+ has varints, 64-bit mtimes, the hard-link group's first index
    /// and io_error in the list's end; 31 adds nanoseconds. Names and link targets are the exact bytes of the project's
    /// path encoding.
    /// </summary>
    internal static class FileListWriter
    {
        private const byte XmitTopDir = 0x01, XmitLongName = 0x40;
        private const int S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFDIR = 0x4000, S_IFBLK = 0x6000, S_IFREG = 0x8000, S_IFLNK = 0xA000, S_IFSOCK = 0xC000;
        /// <summary>rsync's IOERR_GENERAL: the receiver then refuses to delete anything.</summary>
        public const int IoErrorGeneral = 1;
        /// <summary>A (dev, inode) no real file has, for files without hard links when -H is on (every regular file
        /// carries a pair in protocol 27): a dev above anything a kernel hands out, the list index + 1 as inode (0 is no key to rsync).</summary>
        private const long UnlinkedDev = 1L << 40;

        [DllImport("libc")] private static extern uint geteuid();
        [DllImport("libc")] private static extern uint getegid();

        /// <summary>The list in the order the receiver indexes it (rsync sorts what it receives and asks by position in
        /// that order), duplicates dropped. Below protocol 29 that is the raw bytes of the whole path; from 29 on, within
        /// a directory its files come first (by name bytes), then its subdirectories, each compared as "name/" and
        /// followed by its own contents; "." comes first of all.</summary>
        public static List<FileMeta> Sort(IEnumerable<FileMeta> entries, int protocol = 27)
        {
            var keyed = new List<(byte[] Key, FileMeta Meta)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in entries)
                if (e.RelativePath.Length > 0 && seen.Add(e.RelativePath)) keyed.Add((PathEncoding.ToBytes(e.RelativePath), e));
            if (protocol < 29) keyed.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
            else keyed.Sort((a, b) => CompareNew(a.Key, a.Meta.Kind == EntryKind.Directory, b.Key, b.Meta.Kind == EntryKind.Directory));
            return keyed.ConvertAll(k => k.Meta);
        }

        /// <summary>
        /// Protocol 29+'s order, component by component: at the first level where two paths differ, a leaf that is not a
        /// directory sorts before a directory or a path going deeper; between two of a kind a leaf compares by its bytes,
        /// a directory (or an intermediate component) by its bytes followed by '/'. An ancestor precedes its contents.
        /// </summary>
        internal static int CompareNew(byte[] a, bool aDir, byte[] b, bool bDir)
        {
            bool aDot = a.Length == 1 && a[0] == (byte)'.', bDot = b.Length == 1 && b[0] == (byte)'.';
            if (aDot || bDot) return aDot && bDot ? 0 : aDot ? -1 : 1;
            int ia = 0, ib = 0;
            while (true)
            {
                if (ia >= a.Length) return ib >= b.Length ? 0 : -1;
                if (ib >= b.Length) return 1;
                int ea = Array.IndexOf(a, (byte)'/', ia), eb = Array.IndexOf(b, (byte)'/', ib);
                bool aPath = ea >= 0 || aDir, bPath = eb >= 0 || bDir;
                if (ea < 0) ea = a.Length;
                if (eb < 0) eb = b.Length;
                if (aPath != bPath) return aPath ? 1 : -1;
                int la = ea - ia, lb = eb - ib, n = Math.Min(la, lb);
                int c = a.AsSpan(ia, n).SequenceCompareTo(b.AsSpan(ib, n));
                if (c != 0) return c;
                if (la != lb)
                {
                    // One name is a prefix of the other: the shorter one's next byte is its end ('/' for a path, nothing for a leaf).
                    int na = la > n ? a[ia + n] : aPath ? '/' : -1;
                    int nb = lb > n ? b[ib + n] : bPath ? '/' : -1;
                    return na - nb;
                }
                ia = ea + 1; ib = eb + 1;
            }
        }

        /// <summary>
        /// Writes the list for the negotiated protocol, then its end with <paramref name="ioError"/>. Below 30 entries
        /// go as protocol 27/28 has them; from 30 on with varints (the flags too when <paramref name="varintFlags"/>),
        /// 64-bit mtimes and, from 31, the nanoseconds; hard links as an index of the group's first entry.
        /// </summary>
        public static void Write(ServerOutput o, IReadOnlyList<FileMeta> list, RsyncPushOptions opt, int ioError, int protocol, bool varintFlags, bool safeFlist)
        {
            if (protocol < 28) { WriteOld(o, list, opt, ioError); return; }
            var firstOfGroup = new Dictionary<(long, long), int>();
            for (int i = 0; i < list.Count; i++)
            {
                var e = list[i];
                int flags = XmitLongName | (e.RelativePath == "." ? XmitTopDir : 0);
                bool linked = opt.PreserveHardLinks && e.Kind == EntryKind.File && e.LinkCount > 1 && e.Inode != 0;
                int first = -1;
                if (linked)
                {
                    flags |= XmitHlinked;
                    if (protocol >= 30)
                    {
                        if (!firstOfGroup.TryGetValue((e.Device, e.Inode), out first)) { firstOfGroup[(e.Device, e.Inode)] = i; first = -1; flags |= XmitHlinkFirst; }
                    }
                }
                if (protocol >= 31 && e.MTimeNanos > 0 && e.MTimeNanos < 1_000_000_000) flags |= XmitModNsec;
                if (varintFlags) o.WriteVarint(flags);
                else if ((flags & 0xFF00) != 0) o.WriteShort(flags | XmitExtendedFlags);
                else o.WriteByte((byte)flags);
                var name = PathEncoding.ToBytes(e.RelativePath);
                if (protocol >= 30) o.WriteVarint(name.Length); else o.WriteInt(name.Length);
                o.Write(name, 0, name.Length);
                if (first >= 0) { o.WriteVarint(first); continue; } // the rest is the first entry's
                long size = e.Kind == EntryKind.File ? e.Size : 0;
                if (protocol >= 30) { o.WriteVarlong(size, 3); o.WriteVarlong(e.MTime, 4); }
                else { o.WriteLong(size); o.WriteInt(Time32(e.MTime)); }
                if ((flags & XmitModNsec) != 0) o.WriteVarint(e.MTimeNanos);
                o.WriteInt(TypeBits(e.Kind) | Permissions(e));
                if (opt.PreserveOwner) WriteId(o, protocol, e.Uid >= 0 ? (uint)e.Uid : geteuid());
                if (opt.PreserveGroup) WriteId(o, protocol, e.Gid >= 0 ? (uint)e.Gid : getegid());
                if (opt.PreserveSpecials && (IsDevice(e.Kind) || e.IsSpecial && protocol < 31))
                {
                    var (major, minor) = IsDevice(e.Kind) ? Split(e.DeviceNumber) : (0u, 0u);
                    if (protocol >= 30) { o.WriteVarint(unchecked((int)major)); o.WriteVarint(unchecked((int)minor)); }
                    else { o.WriteInt(unchecked((int)major)); o.WriteInt(unchecked((int)minor)); }
                }
                if (opt.PreserveLinks && e.Kind == EntryKind.Symlink)
                {
                    var target = PathEncoding.ToBytes(e.LinkTarget ?? "");
                    if (protocol >= 30) o.WriteVarint(target.Length); else o.WriteInt(target.Length);
                    o.Write(target, 0, target.Length);
                }
                if (linked && protocol < 30) { o.WriteLong((e.Device & long.MaxValue) + 1); o.WriteLong(e.Inode & long.MaxValue); }
            }
            if (varintFlags) { o.WriteVarint(0); o.WriteVarint(ioError); }
            else if (protocol >= 30 && ioError != 0 && safeFlist) { o.WriteShort(XmitExtendedFlags | XmitIoErrorEndList); o.WriteVarint(ioError); }
            else
            {
                o.WriteByte(0);
                if (protocol < 30) o.WriteInt(ioError);
                else if (ioError != 0) o.SendMessage(ServerMessageRules.MsgIoError, BitConverter.GetBytes(ioError));
            }
        }

        private const int XmitExtendedFlags = 1 << 2, XmitHlinked = 1 << 9, XmitHlinkFirst = 1 << 12, XmitIoErrorEndList = 1 << 12, XmitModNsec = 1 << 13;

        /// <summary>
        /// An mtime as protocols 27-29 carry it: 32 bits the receiver reads as unsigned, so 1970 to 2106. A time outside
        /// is clamped to the nearest end, as SFTP v3 does, rather than wrapped: 1965 would land as 2101, a date in the
        /// future that every later compare believes.
        /// </summary>
        internal static int Time32(long mtime) => unchecked((int)(uint)Math.Clamp(mtime, 0L, uint.MaxValue));

        private static void WriteId(ServerOutput o, int protocol, uint id)
        {
            if (protocol >= 30) o.WriteVarint(unchecked((int)id)); else o.WriteInt(unchecked((int)id));
        }

        /// <summary>major and minor of a glibc 64-bit dev_t.</summary>
        internal static (uint Major, uint Minor) Split(long rdev)
        {
            ulong d = (ulong)rdev;
            return ((uint)(((d >> 8) & 0xFFF) | ((d >> 32) & ~0xFFFUL)), (uint)((d & 0xFF) | ((d >> 12) & ~0xFFUL)));
        }

        private static void WriteOld(ServerOutput o, IReadOnlyList<FileMeta> list, RsyncPushOptions opt, int ioError)
        {

            for (int i = 0; i < list.Count; i++)
            {
                var e = list[i];
                o.WriteByte((byte)(XmitLongName | (e.RelativePath == "." ? XmitTopDir : 0)));
                o.WriteName(e.RelativePath);
                o.WriteLong(e.Kind == EntryKind.File ? e.Size : 0);
                o.WriteInt(Time32(e.MTime));
                o.WriteInt(TypeBits(e.Kind) | Permissions(e));
                // Unknown owner: claim ourselves, never root (0) by accident.
                if (opt.PreserveOwner) o.WriteInt(unchecked((int)(e.Uid >= 0 ? (uint)e.Uid : geteuid())));
                if (opt.PreserveGroup) o.WriteInt(unchecked((int)(e.Gid >= 0 ? (uint)e.Gid : getegid())));
                if (opt.PreserveSpecials && e.IsSpecial) o.WriteInt(IsDevice(e.Kind) ? OldDevT(e.DeviceNumber) : 0);
                if (opt.PreserveLinks && e.Kind == EntryKind.Symlink) o.WriteName(e.LinkTarget ?? "");
                if (opt.PreserveHardLinks && e.Kind == EntryKind.File)
                {
                    bool linked = e.LinkCount > 1 && e.Inode != 0;
                    o.WriteLong(linked ? e.Device & long.MaxValue : UnlinkedDev);
                    o.WriteLong(linked ? e.Inode & long.MaxValue : i + 1); // rsync's hashtable refuses key 0
                }
            }
            o.WriteByte(0);
            o.WriteInt(ioError);
        }

        /// <summary>True when the server must be started with -D to take this entry.</summary>
        public static bool NeedsSpecials(FileMeta e) => e.IsSpecial;

        private static bool IsDevice(EntryKind k) => k == EntryKind.CharDevice || k == EntryKind.BlockDevice;

        private static int TypeBits(EntryKind k) => k switch
        {
            EntryKind.Directory => S_IFDIR,
            EntryKind.Symlink => S_IFLNK,
            EntryKind.Fifo => S_IFIFO,
            EntryKind.Socket => S_IFSOCK,
            EntryKind.CharDevice => S_IFCHR,
            EntryKind.BlockDevice => S_IFBLK,
            _ => S_IFREG,
        };

        private static int Permissions(FileMeta e) =>
            e.Mode >= 0 ? e.Mode & 0xFFF : e.Kind == EntryKind.Directory ? 0x1ED : e.Kind == EntryKind.Symlink ? 0x1FF : 0x1A4;

        /// <summary>
        /// A device number as a protocol-27 int: the receiver takes major()/minor() of it with glibc's macros, so it is
        /// re-packed in glibc's layout restricted to 32 bits (major up to 4095, minor up to 1048575, which covers Linux's
        /// devices). st_rdev arrives in glibc's 64-bit layout.
        /// </summary>
        internal static int OldDevT(long rdev)
        {
            ulong d = (ulong)rdev;
            uint major = (uint)(((d >> 8) & 0xFFF) | ((d >> 32) & ~0xFFFUL));
            uint minor = (uint)((d & 0xFF) | ((d >> 12) & ~0xFFUL));
            return unchecked((int)(((major & 0xFFF) << 8) | (minor & 0xFF) | ((minor & 0xFFF00) << 12)));
        }
    }
}
