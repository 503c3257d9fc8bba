using System;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;

namespace RealtimeMirror.Engine.Platform
{
    /// <summary>
    /// Path-based libc calls kept for <see cref="LocalFileSystem"/> (the pre-confinement code path), and
    /// <see cref="IsRoot"/>. New code goes through <see cref="DirectoryHandle"/> and Native/ instead: these
    /// resolve whole paths and would follow a symlink in a parent. Paths go to libc in PathEncoding bytes.
    /// </summary>
    internal static class Posix
    {
        private const int AT_FDCWD = -100;
        private const int AT_SYMLINK_NOFOLLOW = 0x100;
        private const uint STATX_BASIC_STATS = 0x7ff;

        public const int S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFLNK = 0xA000;

        [DllImport("libc", SetLastError = true)]
        private static extern int statx(int dirfd, byte[] path, int flags, uint mask, byte[] buf);
        [DllImport("libc", SetLastError = true)]
        private static extern int chmod(byte[] path, uint mode);
        [DllImport("libc", SetLastError = true)]
        private static extern int lchown(byte[] path, int uid, int gid);
        [DllImport("libc", SetLastError = true)]
        private static extern int utimensat(int dirfd, byte[] path, long[] times, int flags);
        [DllImport("libc", SetLastError = true)]
        private static extern int symlink(byte[] target, byte[] linkPath);
        [DllImport("libc", SetLastError = true)]
        private static extern IntPtr readlink(byte[] path, byte[] buf, IntPtr size);
        [DllImport("libc", SetLastError = true)]
        private static extern int rename(byte[] oldPath, byte[] newPath);
        [DllImport("libc")]
        private static extern int geteuid();

        public static bool IsAvailable => RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

        public struct StatInfo
        {
            public int Mode; // file type and permission bits
            public long Uid, Gid;
            public long Size, MTime, MTimeNanos;
            public long Inode;
            public bool IsDirectory => (Mode & S_IFMT) == S_IFDIR;
            public bool IsSymlink => (Mode & S_IFMT) == S_IFLNK;
            public bool IsRegular => (Mode & S_IFMT) == S_IFREG;
        }

        // Names are bytes: the project's one encoding, so a Latin-1 name reaches libc unchanged.
        private static byte[] Z(string s) => Paths.PathEncoding.ToCString(s);

        /// <summary>lstat: does not follow a symlink. Returns false when the path does not exist.</summary>
        public static bool TryLStat(string path, out StatInfo info)
        {
            var buf = new byte[256];
            info = default;
            if (statx(AT_FDCWD, Z(path), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, buf) != 0)
            {
                int err = Marshal.GetLastWin32Error();
                if (err == 2 || err == 20) return false; // ENOENT, ENOTDIR
                throw new Win32Exception(err, $"stat '{path}': {new Win32Exception(err).Message}");
            }
            info.Uid = BitConverter.ToUInt32(buf, 20);
            info.Gid = BitConverter.ToUInt32(buf, 24);
            info.Mode = BitConverter.ToUInt16(buf, 28);
            info.Inode = (long)BitConverter.ToUInt64(buf, 32);
            info.Size = (long)BitConverter.ToUInt64(buf, 40);
            info.MTime = BitConverter.ToInt64(buf, 112);
            info.MTimeNanos = BitConverter.ToUInt32(buf, 120);
            return true;
        }

        public static void Chmod(string path, int mode) => Check(chmod(Z(path), (uint)(mode & 0xFFF)), "chmod", path);

        /// <summary>Changes owner and group without following a link; false when not permitted (not root).</summary>
        public static bool TryLChown(string path, int uid, int gid)
        {
            if (lchown(Z(path), uid, gid) == 0) return true;
            int err = Marshal.GetLastWin32Error();
            if (err == 1) return false; // EPERM: ordinary users may not give files away
            throw new Win32Exception(err, $"chown '{path}': {new Win32Exception(err).Message}");
        }

        /// <summary>Sets atime and mtime (seconds) on the entry itself, a symlink included.</summary>
        public static void SetTimes(string path, long mtime)
        {
            const long UTIME_OMIT = (1L << 30) - 2;
            var times = new long[] { 0, UTIME_OMIT, mtime, 0 };
            Check(utimensat(AT_FDCWD, Z(path), times, AT_SYMLINK_NOFOLLOW), "utimensat", path);
        }

        public static void Symlink(string target, string linkPath) => Check(symlink(Z(target), Z(linkPath)), "symlink", linkPath);

        public static string ReadLink(string path)
        {
            var buf = new byte[4096];
            var n = (long)readlink(Z(path), buf, (IntPtr)buf.Length);
            if (n < 0) Check(-1, "readlink", path);
            return Paths.PathEncoding.FromBytes(buf, 0, (int)n);
        }

        /// <summary>Atomic replace, also over an existing symlink or file.</summary>
        public static void Rename(string from, string to) => Check(rename(Z(from), Z(to)), "rename", from);

        public static bool IsRoot => IsAvailable && geteuid() == 0;

        private static void Check(int rc, string op, string path)
        {
            if (rc == 0) return;
            int err = Marshal.GetLastWin32Error();
            throw new Win32Exception(err, $"{op} '{path}': {new Win32Exception(err).Message}");
        }
    }
}
