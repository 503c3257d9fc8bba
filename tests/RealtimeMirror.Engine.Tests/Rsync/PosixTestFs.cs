using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Transport.Rsync;

namespace RealtimeMirror.Engine.Tests.Rsync
{
    /// <summary>
    /// Test-only libc calls by raw path bytes (names in PathEncoding), so tests can make and check names that are not
    /// UTF-8, specials and owners, and a stand-in source reader until DirectoryHandle is implemented.
    /// </summary>
    internal static class PosixTestFs
    {
        private const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;
        private const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_TRUNC = 0x200, O_NONBLOCK = 0x800, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000;

        [DllImport("libc", SetLastError = true)] private static extern int statx(int dirfd, byte[] path, int flags, uint mask, byte[] buf);
        [DllImport("libc", SetLastError = true)] private static extern int open(byte[] path, int flags, uint mode);
        [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
        [DllImport("libc", SetLastError = true)] private static extern IntPtr readlink(byte[] path, byte[] buf, IntPtr size);
        [DllImport("libc", SetLastError = true)] private static extern int symlink(byte[] target, byte[] path);
        [DllImport("libc", SetLastError = true)] private static extern int mknod(byte[] path, uint mode, ulong dev);
        [DllImport("libc", SetLastError = true)] private static extern int lchown(byte[] path, uint uid, uint gid);
        [DllImport("libc", SetLastError = true)] private static extern int utimensat(int dirfd, byte[] path, long[] times, int flags);
        [DllImport("libc", SetLastError = true)] private static extern int link(byte[] existing, byte[] path);
        [DllImport("libc", SetLastError = true)] private static extern int mkdir(byte[] path, uint mode);
        [DllImport("libc", SetLastError = true)] private static extern IntPtr opendir(byte[] path);
        [DllImport("libc", SetLastError = true)] private static extern IntPtr readdir(IntPtr dir);
        [DllImport("libc", SetLastError = true)] private static extern int closedir(IntPtr dir);

        public static bool IsRoot => Environment.UserName == "root";

        private static byte[] Z(string path) => PathEncoding.ToCString(path);

        private static void Check(int rc, string op, string path)
        {
            if (rc == 0) return;
            int err = Marshal.GetLastWin32Error();
            throw new PosixException(err, $"{op} '{path}': errno {err}");
        }

        public static ulong MakeDev(uint major, uint minor) =>
            ((ulong)(major & 0xFFF) << 8) | ((ulong)(major & ~0xFFFu) << 32) | (minor & 0xFF) | ((ulong)(minor & ~0xFFu) << 12);

        public static FileMeta LStat(string path, string rel) => StatCore(AT_FDCWD, Z(path), AT_SYMLINK_NOFOLLOW, path, rel);

        private static FileMeta StatCore(int dirfd, byte[] path, int flags, string shown, string rel)
        {
            var b = new byte[256];
            if (statx(dirfd, path, flags, 0xFFF, b) != 0)
            {
                int err = Marshal.GetLastWin32Error();
                if (err == 2 || err == 20) return null;
                throw new PosixException(err, $"statx '{shown}': errno {err}");
            }
            int mode = BitConverter.ToUInt16(b, 28);
            var kind = (mode & 0xF000) switch
            {
                0x4000 => EntryKind.Directory, 0xA000 => EntryKind.Symlink, 0x1000 => EntryKind.Fifo, 0xC000 => EntryKind.Socket,
                0x2000 => EntryKind.CharDevice, 0x6000 => EntryKind.BlockDevice, _ => EntryKind.File,
            };
            string link = kind == EntryKind.Symlink && dirfd == AT_FDCWD ? ReadLink(shown) : null;
            long size = kind == EntryKind.File ? (long)BitConverter.ToUInt64(b, 40) : kind == EntryKind.Symlink ? PathEncoding.ByteCount(link) : 0;
            return new FileMeta(rel, kind, size, BitConverter.ToInt64(b, 112), mode & 0xFFF, BitConverter.ToUInt32(b, 20), BitConverter.ToUInt32(b, 24), link)
            {
                MTimeNanos = (int)BitConverter.ToUInt32(b, 120),
                DeviceNumber = (long)MakeDev(BitConverter.ToUInt32(b, 128), BitConverter.ToUInt32(b, 132)),
                Device = (long)MakeDev(BitConverter.ToUInt32(b, 136), BitConverter.ToUInt32(b, 140)),
                Inode = (long)BitConverter.ToUInt64(b, 32),
                LinkCount = (int)BitConverter.ToUInt32(b, 16),
            };
        }

        public static string ReadLink(string path)
        {
            var buf = new byte[4096];
            long n = (long)readlink(Z(path), buf, (IntPtr)buf.Length);
            if (n < 0) Check(-1, "readlink", path);
            return PathEncoding.FromBytes(buf, 0, (int)n);
        }

        /// <summary>DirectoryHandle.OpenRead's contract, by path: O_NOFOLLOW|O_NONBLOCK, fstat, regular files only.</summary>
        public static FileStream OpenRead(string path, string rel, out FileMeta meta)
        {
            int fd = open(Z(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
            if (fd < 0)
            {
                int err = Marshal.GetLastWin32Error();
                if (err == 2 || err == 20) throw new FileNotFoundException($"'{path}' is gone.");
                throw new PosixException(err, $"open '{path}': errno {err}");
            }
            var handle = new SafeFileHandle((IntPtr)fd, true);
            meta = StatCore(fd, new byte[1], AT_EMPTY_PATH, path, rel);
            if (meta.Kind != EntryKind.File)
            {
                handle.Dispose();
                throw new NotRegularFileException(rel, meta.Kind);
            }
            return new FileStream(handle, FileAccess.Read, 1);
        }

        public static void WriteFile(string path, byte[] data)
        {
            int fd = open(Z(path), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0x1A4);
            if (fd < 0) Check(-1, "open", path);
            using var fs = new FileStream(new SafeFileHandle((IntPtr)fd, true), FileAccess.Write, 1);
            fs.Write(data);
        }

        public static byte[] ReadFile(string path)
        {
            using var fs = OpenRead(path, path, out _);
            var ms = new MemoryStream();
            fs.CopyTo(ms);
            return ms.ToArray();
        }

        public static void Link(string existing, string path) => Check(link(Z(existing), Z(path)), "link", path);
        public static void Mkdir(string path) => Check(mkdir(Z(path), 0x1ED), "mkdir", path);
        public static void Symlink(string target, string path) => Check(symlink(Z(target), Z(path)), "symlink", path);
        public static void MkFifo(string path) => Check(mknod(Z(path), 0x1000 | 0x1A4, 0), "mknod", path);
        public static void MkSocket(string path) => Check(mknod(Z(path), 0xC000 | 0x1ED, 0), "mknod", path);
        public static void MkCharDevice(string path, uint major, uint minor) => Check(mknod(Z(path), 0x2000 | 0x1A4, MakeDev(major, minor)), "mknod", path);
        public static void Chown(string path, uint uid, uint gid) => Check(lchown(Z(path), uid, gid), "lchown", path);

        public static void SetMTime(string path, long seconds, long nanos = 0)
        {
            const long UTIME_OMIT = (1L << 30) - 2;
            Check(utimensat(AT_FDCWD, Z(path), new long[] { 0, UTIME_OMIT, seconds, nanos }, AT_SYMLINK_NOFOLLOW), "utimensat", path);
        }

        /// <summary>Names in one directory, raw bytes decoded by PathEncoding.</summary>
        public static List<string> Names(string dir)
        {
            var d = opendir(Z(dir));
            if (d == IntPtr.Zero) Check(-1, "opendir", dir);
            var names = new List<string>();
            try
            {
                IntPtr ent;
                while ((ent = readdir(d)) != IntPtr.Zero)
                {
                    var p = ent + 19; // struct dirent64: ino 8, off 8, reclen 2, type 1, then the name
                    int n = 0;
                    while (Marshal.ReadByte(p, n) != 0) n++;
                    var bytes = new byte[n];
                    Marshal.Copy(p, bytes, 0, n);
                    var name = PathEncoding.FromBytes(bytes);
                    if (name != "." && name != "..") names.Add(name);
                }
            }
            finally { closedir(d); }
            return names;
        }

        /// <summary>Every entry below <paramref name="root"/>, lstat'ed, in no particular order.</summary>
        public static List<FileMeta> Walk(string root, string rel = "")
        {
            var all = new List<FileMeta>();
            foreach (var name in Names(rel.Length == 0 ? root : root + "/" + rel))
            {
                var r = rel.Length == 0 ? name : rel + "/" + name;
                var m = LStat(root + "/" + r, r);
                if (m == null) continue;
                all.Add(m);
                if (m.Kind == EntryKind.Directory) all.AddRange(Walk(root, r));
            }
            return all;
        }
    }

    /// <summary>A source reader over a plain path, with DirectoryHandle's contract (not its confinement).</summary>
    internal sealed class TestSource : IRsyncSource
    {
        private readonly string _root;
        public TestSource(string root) { _root = root; }
        public string Description => _root;
        private string Full(string rel) => rel.Length == 0 ? _root : _root + "/" + rel;
        public FileMeta Stat(string relativePath) => PosixTestFs.LStat(Full(relativePath), relativePath);
        public FileStream OpenRead(string relativePath, out FileMeta meta) => PosixTestFs.OpenRead(Full(relativePath), relativePath, out meta);
    }
}
