using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace RealtimeMirror.Fuzz;

/// <summary>
/// A minimal libc binding taking raw byte paths (NUL-terminated here), so names that are not UTF-8 can be made and read.
/// .NET's File APIs encode every name as UTF-8 and cannot do that. Linux x86_64/arm64 (glibc) only.
/// </summary>
public static unsafe class Native
{
    const string Libc = "libc";
    public const int AT_FDCWD = -100;
    const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int O_WRONLY = 1, O_RDONLY = 0, O_CREAT = 0x40, O_TRUNC = 0x200, O_APPEND = 0x400, O_NOFOLLOW = 0x20000, O_NONBLOCK = 0x800;

    [DllImport(Libc, SetLastError = true)] static extern int open(byte* path, int flags, uint mode);
    [DllImport(Libc, SetLastError = true)] static extern nint write(int fd, byte* buf, nint count);
    [DllImport(Libc, SetLastError = true)] static extern nint read(int fd, byte* buf, nint count);
    [DllImport(Libc, SetLastError = true)] static extern nint pwrite(int fd, byte* buf, nint count, long offset);
    [DllImport(Libc, SetLastError = true)] static extern int close(int fd);
    [DllImport(Libc, SetLastError = true)] static extern int truncate(byte* path, long length);
    [DllImport(Libc, SetLastError = true)] static extern int rename(byte* from, byte* to);
    [DllImport(Libc, SetLastError = true)] static extern int unlink(byte* path);
    [DllImport(Libc, SetLastError = true)] static extern int mkdir(byte* path, uint mode);
    [DllImport(Libc, SetLastError = true)] static extern int rmdir(byte* path);
    [DllImport(Libc, SetLastError = true)] static extern int symlink(byte* target, byte* linkPath);
    [DllImport(Libc, SetLastError = true)] static extern int link(byte* from, byte* to);
    [DllImport(Libc, SetLastError = true)] static extern int chmod(byte* path, uint mode);
    [DllImport(Libc, SetLastError = true)] static extern int lchown(byte* path, uint uid, uint gid);
    [DllImport(Libc, SetLastError = true)] static extern int utimensat(int dirfd, byte* path, long* times, int flags);
    [DllImport(Libc, SetLastError = true)] static extern int mkfifo(byte* path, uint mode);
    [DllImport(Libc, SetLastError = true)] static extern nint readlink(byte* path, byte* buf, nint size);
    [DllImport(Libc, SetLastError = true)] static extern int statx(int dirfd, byte* path, int flags, uint mask, byte* buf);
    [DllImport(Libc, SetLastError = true)] static extern nint opendir(byte* path);
    [DllImport(Libc, SetLastError = true)] static extern byte* readdir(nint dir);
    [DllImport(Libc, SetLastError = true)] static extern int closedir(nint dir);
    [DllImport(Libc)] public static extern uint umask(uint mask);

    public static byte[] Z(byte[] path)
    {
        var z = new byte[path.Length + 1];
        path.CopyTo(z, 0);
        return z;
    }

    static int Check(int rc, string what, byte[] path)
    {
        if (rc < 0) throw new NativeException(what, Marshal.GetLastPInvokeError(), path);
        return rc;
    }

    public static void WriteFile(byte[] path, ReadOnlySpan<byte> data, bool append = false, uint mode = 0x1A4 /* 0644 */)
    {
        int fd;
        fixed (byte* p = Z(path)) fd = Check(open(p, O_WRONLY | O_CREAT | O_NOFOLLOW | (append ? O_APPEND : O_TRUNC), mode), "open", path);
        try
        {
            fixed (byte* d = data)
            {
                long done = 0;
                while (done < data.Length)
                {
                    var n = write(fd, d + done, (nint)(data.Length - done));
                    if (n < 0) Check(-1, "write", path);
                    done += n;
                }
            }
        }
        finally { close(fd); }
    }

    /// <summary>Writes in place at an offset without truncating (an edit through one hard-link name).</summary>
    public static void PWrite(byte[] path, ReadOnlySpan<byte> data, long offset)
    {
        int fd;
        fixed (byte* p = Z(path)) fd = Check(open(p, O_WRONLY | O_NOFOLLOW, 0), "open", path);
        try { fixed (byte* d = data) if (pwrite(fd, d, data.Length, offset) != data.Length) Check(-1, "pwrite", path); }
        finally { close(fd); }
    }

    public static byte[] ReadFile(byte[] path, int max = int.MaxValue)
    {
        int fd;
        fixed (byte* p = Z(path)) fd = Check(open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0), "open", path);
        try
        {
            var ms = new MemoryStream();
            var buf = new byte[1 << 16];
            fixed (byte* b = buf)
            {
                while (ms.Length < max)
                {
                    var n = read(fd, b, buf.Length);
                    if (n < 0) Check(-1, "read", path);
                    if (n == 0) break;
                    ms.Write(buf, 0, (int)n);
                }
            }
            return ms.ToArray();
        }
        finally { close(fd); }
    }

    /// <summary>Streams a file's bytes into a hash without holding it in memory.</summary>
    public static byte[] HashFile(byte[] path)
    {
        int fd;
        fixed (byte* p = Z(path)) fd = Check(open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0), "open", path);
        try
        {
            using var h = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var buf = new byte[1 << 16];
            fixed (byte* b = buf)
            {
                while (true)
                {
                    var n = read(fd, b, buf.Length);
                    if (n < 0) Check(-1, "read", path);
                    if (n == 0) break;
                    h.AppendData(buf, 0, (int)n);
                }
            }
            return h.GetHashAndReset();
        }
        finally { close(fd); }
    }

    public static void Truncate(byte[] path, long len) { fixed (byte* p = Z(path)) Check(truncate(p, len), "truncate", path); }
    public static void Rename(byte[] from, byte[] to) { fixed (byte* a = Z(from)) fixed (byte* b = Z(to)) Check(rename(a, b), "rename", from); }
    public static void Unlink(byte[] path) { fixed (byte* p = Z(path)) Check(unlink(p), "unlink", path); }
    public static void Mkdir(byte[] path, uint mode = 0x1ED /* 0755 */) { fixed (byte* p = Z(path)) Check(mkdir(p, mode), "mkdir", path); }
    public static void Rmdir(byte[] path) { fixed (byte* p = Z(path)) Check(rmdir(p), "rmdir", path); }
    public static void Symlink(byte[] target, byte[] linkPath) { fixed (byte* t = Z(target)) fixed (byte* l = Z(linkPath)) Check(symlink(t, l), "symlink", linkPath); }
    public static void Link(byte[] from, byte[] to) { fixed (byte* a = Z(from)) fixed (byte* b = Z(to)) Check(link(a, b), "link", to); }
    public static void Chmod(byte[] path, uint mode) { fixed (byte* p = Z(path)) Check(chmod(p, mode), "chmod", path); }
    public static void Lchown(byte[] path, uint uid, uint gid) { fixed (byte* p = Z(path)) Check(lchown(p, uid, gid), "lchown", path); }
    public static void Mkfifo(byte[] path, uint mode = 0x1A4 /* 0644 */) { fixed (byte* p = Z(path)) Check(mkfifo(p, mode), "mkfifo", path); }

    /// <summary>Sets atime and mtime (seconds may be negative: before 1970) without following a final symlink.</summary>
    public static void SetTimes(byte[] path, long sec, long nsec, bool noFollow = true)
    {
        long* ts = stackalloc long[4];
        ts[0] = sec; ts[1] = nsec; ts[2] = sec; ts[3] = nsec;
        fixed (byte* p = Z(path)) Check(utimensat(AT_FDCWD, p, ts, noFollow ? AT_SYMLINK_NOFOLLOW : 0), "utimensat", path);
    }

    public static byte[] ReadLink(byte[] path)
    {
        var buf = new byte[4096];
        nint n;
        fixed (byte* p = Z(path)) fixed (byte* b = buf) n = readlink(p, b, buf.Length);
        if (n < 0) Check(-1, "readlink", path);
        return buf.AsSpan(0, (int)n).ToArray();
    }

    /// <summary>lstat through statx (a layout that is the same on every Linux architecture). Null when missing.</summary>
    public static StatInfo? LStat(byte[] path)
    {
        var buf = stackalloc byte[256];
        int rc;
        fixed (byte* p = Z(path)) rc = statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, 0x7ff, buf);
        if (rc < 0)
        {
            var err = Marshal.GetLastPInvokeError();
            if (err == 2 || err == 20) return null; // ENOENT, ENOTDIR
            throw new NativeException("statx", err, path);
        }
        var s = new ReadOnlySpan<byte>(buf, 256);
        return new StatInfo(
            Nlink: BinaryPrimitives.ReadUInt32LittleEndian(s[16..]),
            Uid: BinaryPrimitives.ReadUInt32LittleEndian(s[20..]),
            Gid: BinaryPrimitives.ReadUInt32LittleEndian(s[24..]),
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(s[28..]),
            Ino: BinaryPrimitives.ReadUInt64LittleEndian(s[32..]),
            Size: BinaryPrimitives.ReadInt64LittleEndian(s[40..]),
            CtimeSec: BinaryPrimitives.ReadInt64LittleEndian(s[96..]),
            CtimeNsec: BinaryPrimitives.ReadUInt32LittleEndian(s[104..]),
            MtimeSec: BinaryPrimitives.ReadInt64LittleEndian(s[112..]),
            MtimeNsec: BinaryPrimitives.ReadUInt32LittleEndian(s[120..]));
    }

    /// <summary>The names in a directory as raw bytes, without "." and "..", sorted bytewise.</summary>
    public static List<byte[]> ListDir(byte[] path)
    {
        nint dir;
        fixed (byte* p = Z(path)) dir = opendir(p);
        if (dir == 0) Check(-1, "opendir", path);
        var names = new List<byte[]>();
        try
        {
            while (true)
            {
                Marshal.SetLastPInvokeError(0);
                var ent = readdir(dir);
                if (ent == null) break;
                var name = ent + 19; // struct dirent (glibc, 64-bit): d_ino, d_off, d_reclen, d_type, d_name
                var len = 0;
                while (name[len] != 0) len++;
                if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) continue;
                names.Add(new ReadOnlySpan<byte>(name, len).ToArray());
            }
        }
        finally { closedir(dir); }
        names.Sort((a, b) => a.AsSpan().SequenceCompareTo(b));
        return names;
    }
}

public readonly record struct StatInfo(uint Nlink, uint Uid, uint Gid, ushort Mode, ulong Ino, long Size, long CtimeSec, uint CtimeNsec, long MtimeSec, uint MtimeNsec)
{
    public const int S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFLNK = 0xA000, S_IFIFO = 0x1000;
    public int Type => Mode & S_IFMT;
    public bool IsDir => Type == S_IFDIR;
    public bool IsFile => Type == S_IFREG;
    public bool IsLink => Type == S_IFLNK;
    public bool IsFifo => Type == S_IFIFO;
    public int Perm => Mode & 0xFFF; // including setuid/setgid/sticky
}

public sealed class NativeException(string call, int errno, byte[] path)
    : IOException($"{call}({Bytes.Show(path)}): errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})")
{
    public int Errno { get; } = errno;
    public string Call { get; } = call;
}

/// <summary>C# has no octal literals: Mode.Oc(4755) reads the decimal digits as octal, so modes stay readable.</summary>
public static class Mode
{
    public static uint Oc(int digits) => Convert.ToUInt32(digits.ToString(), 8);
}
