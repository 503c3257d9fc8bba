using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// The file list as protocol 27 carries it (rsync's send_file_entry below protocol 28), each entry sent whole:
    /// a flags byte (never 0, which ends the list), name, length, mtime, mode, then only what the server's options
    /// ask for: uid, gid (raw unsigned 32-bit, --numeric-ids), rdev (-D), link target (-l), dev+inode (-H). Then a 0
    /// byte and the io_error word. Names and link targets are the exact bytes of the project's path encoding.
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

        /// <summary>The list in the order the receiver indexes it: sorted by the raw bytes of the path (protocol &lt; 29 compares
        /// whole paths bytewise), duplicates dropped.</summary>
        public static List<FileMeta> Sort(IEnumerable<FileMeta> entries)
        {
            var keyed = new List<(byte[] Key, FileMeta Meta)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in entries)
                if (e.RelativePath.Length > 0 && seen.Add(e.RelativePath)) keyed.Add((PathEncoding.ToBytes(e.RelativePath), e));
            keyed.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
            return keyed.ConvertAll(k => k.Meta);
        }

        public static void Write(ServerOutput o, IReadOnlyList<FileMeta> list, RsyncPushOptions opt, int ioError)
        {
            for (int i = 0; i < list.Count; i++)
            {
                var e = list[i];
                o.WriteByte((byte)(XmitLongName | (e.RelativePath == "." ? XmitTopDir : 0)));
                o.WriteName(e.RelativePath);
                o.WriteLong(e.Kind == EntryKind.File ? e.Size : 0);
                o.WriteInt(unchecked((int)(uint)e.MTime)); // read as unsigned 32-bit: good to 2106
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
