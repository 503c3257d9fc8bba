using System;
using System.Runtime.InteropServices;

namespace RealtimeMirror.Engine.Platform.Native
{
    /// <summary>
    /// The raw libc entry points the confined file layer uses, and nothing else. Paths are NUL-terminated byte
    /// arrays made by <see cref="Paths.PathEncoding.ToCString"/> (names are bytes on Linux, not text).
    /// Calls that take a variadic mode (openat, fcntl, syscall) are declared with fixed integer arguments: on the
    /// 64-bit Linux ABIs we support those travel in the same registers either way.
    /// </summary>
    internal static unsafe class LibC
    {
        private const string Lib = "libc";

        [DllImport(Lib, SetLastError = true)] public static extern int open(byte[] path, int flags, uint mode);
        [DllImport(Lib, SetLastError = true)] public static extern int openat(int dirfd, byte[] path, int flags, uint mode);
        [DllImport(Lib, SetLastError = true)] public static extern int close(int fd);
        [DllImport(Lib, SetLastError = true)] public static extern int fcntl(int fd, int cmd, int arg);
        [DllImport(Lib, SetLastError = true)] public static extern int mkdir(byte[] path, uint mode);

        [DllImport(Lib, SetLastError = true)] public static extern int statx(int dirfd, byte[] path, int flags, uint mask, byte* buf);
        [DllImport(Lib, SetLastError = true)] public static extern nint readlinkat(int dirfd, byte[] path, byte[] buf, nint size);

        [DllImport(Lib, SetLastError = true)] public static extern int mkdirat(int dirfd, byte[] path, uint mode);
        [DllImport(Lib, SetLastError = true)] public static extern int symlinkat(byte[] target, int dirfd, byte[] linkPath);
        [DllImport(Lib, SetLastError = true)] public static extern int linkat(int oldDirfd, byte[] oldPath, int newDirfd, byte[] newPath, int flags);
        [DllImport(Lib, SetLastError = true)] public static extern int renameat(int oldDirfd, byte[] oldPath, int newDirfd, byte[] newPath);
        [DllImport(Lib, SetLastError = true)] public static extern int unlinkat(int dirfd, byte[] path, int flags);

        [DllImport(Lib, SetLastError = true)] public static extern int fchown(int fd, uint uid, uint gid);
        [DllImport(Lib, SetLastError = true)] public static extern int fchownat(int dirfd, byte[] path, uint uid, uint gid, int flags);
        [DllImport(Lib, SetLastError = true)] public static extern int fchmod(int fd, uint mode);
        [DllImport(Lib, SetLastError = true)] public static extern int fchmodat(int dirfd, byte[] path, uint mode, int flags);
        [DllImport(Lib, SetLastError = true)] public static extern int futimens(int fd, long[] times);
        [DllImport(Lib, SetLastError = true)] public static extern int utimensat(int dirfd, byte[] path, long[] times, int flags);

        // inotify(7), read for its records and poll to wait for them with a timeout (so a reader can be stopped).
        [DllImport(Lib, SetLastError = true)] public static extern int inotify_init1(int flags);
        [DllImport(Lib, SetLastError = true)] public static extern int inotify_add_watch(int fd, byte[] path, uint mask);
        [DllImport(Lib, SetLastError = true)] public static extern int inotify_rm_watch(int fd, int wd);
        [DllImport(Lib, SetLastError = true)] public static extern nint read(int fd, byte* buf, nuint count);
        [DllImport(Lib, SetLastError = true)] public static extern int poll(PollFd* fds, nuint nfds, int timeout);

        // fanotify(7) with file handles: the group, its marks, and name_to_handle_at/open_by_handle_at to map and resolve
        // directory handles; fstatfs for the fsid the events carry; readlink of /proc/self/fd/N for a resolved path.
        [DllImport(Lib, SetLastError = true)] public static extern int fanotify_init(uint flags, uint eventFFlags);
        [DllImport(Lib, SetLastError = true)] public static extern int fanotify_mark(int fd, uint flags, ulong mask, int dirfd, byte[] path);
        [DllImport(Lib, SetLastError = true)] public static extern int name_to_handle_at(int dirfd, byte[] path, byte* handle, out int mountId, int flags);
        [DllImport(Lib, SetLastError = true)] public static extern int open_by_handle_at(int mountFd, byte* handle, int flags);
        [DllImport(Lib, SetLastError = true)] public static extern int fstatfs(int fd, byte* buf);
        [DllImport(Lib, SetLastError = true)] public static extern nint readlink(byte[] path, byte[] buf, nint size);

        // syscall(2) for calls glibc wraps late or not at all (openat2, fchmodat2, getdents64, mknodat).
        [DllImport(Lib, SetLastError = true, EntryPoint = "syscall")] public static extern long syscall_openat2(long nr, int dirfd, byte[] path, OpenHow* how, nuint size);
        [DllImport(Lib, SetLastError = true, EntryPoint = "syscall")] public static extern long syscall_getdents64(long nr, int fd, byte* buf, nuint count);
        [DllImport(Lib, SetLastError = true, EntryPoint = "syscall")] public static extern long syscall_mknodat(long nr, int dirfd, byte[] path, uint mode, uint dev);
        [DllImport(Lib, SetLastError = true, EntryPoint = "syscall")] public static extern long syscall_fchmodat2(long nr, int dirfd, byte[] path, uint mode, int flags);
    }

    /// <summary>struct pollfd of poll(2): int fd; short events; short revents.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
        public const short POLLIN = 1;
    }

    /// <summary>struct open_how of openat2(2): three u64 fields, 24 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }
}
