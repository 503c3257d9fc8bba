using System;
using System.Collections.Generic;

namespace RealtimeMirror.Engine.Platform.Native
{
    /// <summary>
    /// Reads the names of an open directory with getdents64(2), as raw bytes (never decoded by libc or .NET, so a
    /// Latin-1 name comes back exactly). "." and ".." are left out. The descriptor's position is consumed.
    /// </summary>
    internal static unsafe class DirEntries
    {
        /// <summary>d_type values: a directory, and "the file system did not say" (ask stat, or just try).</summary>
        public const byte DT_UNKNOWN = 0, DT_DIR = 4;

        /// <summary>Appends the names to <paramref name="names"/>; returns 0 or the errno of the failed read.</summary>
        public static int Read(int dirfd, List<byte[]> names) => Read(dirfd, names, null);

        // One buffer per thread: a walk reads a million directories, and a fresh 32 KiB each was 32 GB of zeroing
        // (names are copied out before the next call, and Read never calls itself).
        [ThreadStatic] private static byte[] t_buffer;

        /// <summary>Also appends each name's d_type to <paramref name="types"/> when it is given (same order).</summary>
        public static int Read(int dirfd, List<byte[]> names, List<byte> types)
        {
            var buf = t_buffer ??= new byte[32768];
            fixed (byte* p = buf)
            {
                while (true)
                {
                    long n = LibC.syscall_getdents64(Flags.SYS_getdents64, dirfd, p, (nuint)buf.Length);
                    if (n < 0)
                    {
                        int err = Errno.Last;
                        if (err == Errno.EINTR) continue;
                        return err;
                    }
                    if (n == 0) return 0;
                    // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                    for (long off = 0; off < n;)
                    {
                        int reclen = *(ushort*)(p + off + 16);
                        int start = (int)off + 19;
                        int end = start;
                        while (end < off + reclen && buf[end] != 0) end++;
                        int len = end - start;
                        bool dot = len == 1 && buf[start] == '.' || len == 2 && buf[start] == '.' && buf[start + 1] == '.';
                        if (!dot && len > 0)
                        {
                            names.Add(buf.AsSpan(start, len).ToArray());
                            types?.Add(buf[(int)off + 18]);
                        }
                        off += reclen;
                    }
                }
            }
        }

        /// <summary>A name plus its terminating NUL, for the *at calls.</summary>
        public static byte[] CString(byte[] name)
        {
            var z = new byte[name.Length + 1];
            Buffer.BlockCopy(name, 0, z, 0, name.Length);
            return z;
        }

        /// <summary>Byte order of names: the order rsync and the planner sort in.</summary>
        public static int CompareBytes(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b);
    }
}
