using System;
using System.Runtime.InteropServices;

namespace RealtimeMirror.Engine.Platform.Native
{
    /// <summary>
    /// Linux constants. Most are the same on every architecture; O_DIRECTORY, O_NOFOLLOW and the older syscall
    /// numbers are not (x86_64 has its own table; arm64, riscv64 and loongarch64 share the generic one).
    /// </summary>
    internal static class Flags
    {
        private static readonly bool X64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;

        public const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_EXCL = 0x80, O_NONBLOCK = 0x800;
        public const int O_CLOEXEC = 0x80000, O_PATH = 0x200000;
        public static readonly int O_DIRECTORY = X64 ? 0x10000 : 0x4000;
        public static readonly int O_NOFOLLOW = X64 ? 0x20000 : 0x8000;

        public const int F_GETFL = 3, F_SETFL = 4;

        public const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000;
        public const ulong RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04, RESOLVE_BENEATH = 0x08;

        public const long UTIME_NOW = (1L << 30) - 1;

        public const int S_IFMT = 0xF000, S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFDIR = 0x4000, S_IFBLK = 0x6000,
            S_IFREG = 0x8000, S_IFLNK = 0xA000, S_IFSOCK = 0xC000;

        // openat2 and fchmodat2 were added after the syscall tables were unified: same number everywhere.
        public const long SYS_openat2 = 437, SYS_fchmodat2 = 452;
        public static readonly long SYS_getdents64 = X64 ? 217 : 61;
        public static readonly long SYS_mknodat = X64 ? 259 : 33;
    }

    /// <summary>errno values (asm-generic, shared by x86_64 and arm64).</summary>
    internal static class Errno
    {
        public const int EPERM = 1, ENOENT = 2, EINTR = 4, ENXIO = 6, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EEXIST = 17,
            ENOTDIR = 20, ENOSPC = 28, EISDIR = 21, EINVAL = 22, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, EOVERFLOW = 75, EOPNOTSUPP = 95,
            ENODEV = 19, EXDEV = 18, EMFILE = 24, ESTALE = 116;

        public static int Last => Marshal.GetLastPInvokeError();
    }
}
