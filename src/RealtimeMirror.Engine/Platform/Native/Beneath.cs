using System;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Platform.Native
{
    /// <summary>
    /// Opens a relative path beneath a directory descriptor without following any symlink on the way or at the
    /// end, so a link planted by someone with write access to the tree can make the call fail but never redirect
    /// it outside. openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS) does that in the kernel;
    /// before Linux 5.6 we walk component by component with O_NOFOLLOW|O_DIRECTORY, which is as strict.
    /// Returns the new descriptor (always O_CLOEXEC) or -errno; a symlink met as a directory reports ELOOP.
    /// </summary>
    internal static unsafe class Beneath
    {
        private static volatile bool s_noOpenat2 = !Probe();

        /// <summary>Tests set this to run the public API over the fallback walk (kernels before 5.6).</summary>
        internal static volatile bool ForceWalk;

        /// <summary>
        /// Whether openat2 works here at all. A seccomp filter (older container runtimes) may answer EPERM rather
        /// than ENOSYS for a syscall it does not know; opening "/" as O_PATH can fail for no other reason.
        /// </summary>
        private static unsafe bool Probe()
        {
            var how = new OpenHow { Flags = (ulong)(Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_CLOEXEC) };
            long fd = LibC.syscall_openat2(Flags.SYS_openat2, Flags.AT_FDCWD, new byte[] { (byte)'/', 0 }, &how, (nuint)sizeof(OpenHow));
            if (fd < 0) return false;
            LibC.close((int)fd);
            return true;
        }

        private static readonly byte[] Dot = { (byte)'.', 0 };

        public static int Open(int dirfd, string relativePath, int flags, uint mode)
        {
            flags |= Flags.O_CLOEXEC | Flags.O_NOFOLLOW;
            if (!s_noOpenat2 && !ForceWalk)
            {
                var path = relativePath.Length == 0 ? Dot : PathEncoding.ToCString(relativePath);
                // RESOLVE_NO_SYMLINKS already refuses a final link. With O_NOFOLLOW as well, O_PATH|O_DIRECTORY on a
                // link would say ENOTDIR (like a plain file) instead of ELOOP, hiding that a link was planted there.
                int how2Flags = (flags & Flags.O_DIRECTORY) != 0 ? flags & ~Flags.O_NOFOLLOW : flags;
                var how = new OpenHow
                {
                    Flags = (ulong)(uint)how2Flags,
                    Mode = (flags & Flags.O_CREAT) != 0 ? mode : 0, // openat2 refuses a mode without O_CREAT
                    Resolve = Flags.RESOLVE_BENEATH | Flags.RESOLVE_NO_SYMLINKS | Flags.RESOLVE_NO_MAGICLINKS,
                };
                for (int attempt = 0; ; attempt++)
                {
                    long fd = LibC.syscall_openat2(Flags.SYS_openat2, dirfd, path, &how, (nuint)sizeof(OpenHow));
                    if (fd >= 0) return (int)fd;
                    int err = Errno.Last;
                    if (err == Errno.ENOSYS) { s_noOpenat2 = true; break; }
                    // EAGAIN: a concurrent rename raced the lookup (the kernel asks to retry); EINTR: a signal.
                    if ((err == Errno.EAGAIN || err == Errno.EINTR) && attempt < 16) continue;
                    return -err;
                }
            }
            return Walk(dirfd, relativePath, flags, mode);
        }

        /// <summary>The pre-openat2 fallback: each directory component opened O_PATH|O_DIRECTORY|O_NOFOLLOW on the previous one.</summary>
        internal static int Walk(int dirfd, string relativePath, int flags, uint mode)
        {
            if (relativePath.Length == 0) return Retry(() => LibC.openat(dirfd, Dot, flags, mode));
            var parts = relativePath.Split('/');
            foreach (var p in parts)
                if (p.Length == 0 || p == "." || p == "..") return -Errno.EINVAL; // callers pass normalized paths
            int cur = dirfd;
            try
            {
                for (int i = 0; i < parts.Length; i++)
                {
                    var name = PathEncoding.ToCString(parts[i]);
                    bool last = i == parts.Length - 1;
                    int f = last ? flags : Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_NOFOLLOW | Flags.O_CLOEXEC;
                    int at = cur;
                    int next = Retry(() => LibC.openat(at, name, f, last ? mode : 0));
                    if (next < 0)
                    {
                        int err = -next;
                        // O_PATH|O_NOFOLLOW|O_DIRECTORY on a link says ENOTDIR; say ELOOP as openat2 would, so a
                        // planted link is told apart from a parent that is simply a file.
                        if (err == Errno.ENOTDIR && StatX.NoFollow(cur, name, out var st) == 0 && st.Type == Flags.S_IFLNK) err = Errno.ELOOP;
                        return -err;
                    }
                    if (cur != dirfd) LibC.close(cur);
                    cur = next;
                }
                int result = cur;
                cur = dirfd; // handed to the caller
                return result;
            }
            finally
            {
                if (cur != dirfd) LibC.close(cur);
            }
        }

        private static int Retry(Func<int> open)
        {
            while (true)
            {
                int fd = open();
                if (fd >= 0) return fd;
                int err = Errno.Last;
                if (err != Errno.EINTR) return -err;
            }
        }
    }
}
