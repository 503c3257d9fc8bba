using System;
using System.IO;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Tests.Platform
{
    /// <summary>Test fixtures made with plain libc calls by absolute path (not through DirectoryHandle), and checks made the same way.</summary>
    internal static class Raw
    {
        /// <summary>Creates a regular file whose name may hold any bytes (given in PathEncoding).</summary>
        public static void WriteFile(string dir, string name, byte[] content)
        {
            int fd = LibC.open(PathEncoding.ToCString(dir + "/" + name), Flags.O_CREAT | Flags.O_WRONLY | Flags.O_EXCL | Flags.O_CLOEXEC, 0x1A4);
            if (fd < 0) throw new IOException($"create failed: errno {Errno.Last}");
            using var fs = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle((IntPtr)fd, true), FileAccess.Write);
            fs.Write(content);
        }

        public static void Mkfifo(string path)
        {
            long rc = LibC.syscall_mknodat(Flags.SYS_mknodat, Flags.AT_FDCWD, PathEncoding.ToCString(path), (uint)(Flags.S_IFIFO | 0x1A4), 0);
            if (rc < 0) throw new IOException($"mkfifo failed: errno {Errno.Last}");
        }

        /// <summary>lstat by absolute path; false when absent.</summary>
        public static bool Exists(string path, out StatX st) => StatX.Get(Flags.AT_FDCWD, PathEncoding.ToCString(path), Flags.AT_SYMLINK_NOFOLLOW, out st) == 0;

        public static int Mode(string path) => Exists(path, out var st) ? st.Mode & 0xFFF : throw new FileNotFoundException(path);

        public static bool IsRoot => RealtimeMirror.Engine.Platform.Posix.IsRoot;
    }
}
