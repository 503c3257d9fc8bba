using System;
using System.IO;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Platform
{
    // The held root descriptor and the "parent descriptor + final name" every *at operation starts from.
    public sealed partial class DirectoryHandle
    {
        private readonly FdHandle _root;

        private DirectoryHandle(string path, int fd)
        {
            Path = path;
            _root = new FdHandle(fd);
        }

        private static DirectoryHandle OpenRoot(string absolutePath)
        {
            if (!IsSupported) throw new PlatformNotSupportedException("DirectoryHandle needs Linux (openat, statx).");
            var full = System.IO.Path.GetFullPath(absolutePath);
            var c = PathEncoding.ToCString(full);
            // The root itself may be reached through a link: the admin chose that path. Only what is below is confined.
            int fd = Open(c, Flags.O_RDONLY | Flags.O_DIRECTORY | Flags.O_CLOEXEC);
            if (fd < 0 && -fd == Errno.EACCES) fd = Open(c, Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_CLOEXEC); // searchable, not readable
            if (fd < 0)
            {
                int err = -fd;
                if (err == Errno.ENOENT || err == Errno.ENOTDIR)
                    throw new DirectoryNotFoundException($"open '{full}': {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(err)}");
                throw PosixErrors.For(err, "open", full);
            }
            return new DirectoryHandle(full, fd);
        }

        private static int Open(byte[] path, int flags)
        {
            while (true)
            {
                int fd = LibC.open(path, flags, 0);
                if (fd >= 0) return fd;
                int err = Errno.Last;
                if (err != Errno.EINTR) return -err;
            }
        }

        /// <summary>mkdir -p with mode 0755 (less the umask), by the admin's path: the root and its parents.</summary>
        private static void CreateParents(string absolutePath)
        {
            var full = System.IO.Path.GetFullPath(absolutePath).TrimEnd('/');
            for (int i = 1; i <= full.Length; i++)
            {
                if (i < full.Length && full[i] != '/') continue;
                var prefix = full.Substring(0, i);
                if (LibC.mkdir(PathEncoding.ToCString(prefix), 0x1ED /*0755*/) == 0) continue;
                int err = Errno.Last;
                if (err == Errno.EEXIST) continue; // a file there is reported by the open that follows
                if (err == Errno.EACCES && i < full.Length) continue; // an existing parent we may not write to
                throw PosixErrors.For(err, "mkdir", prefix);
            }
        }

        /// <summary>'/'-separated, no "."/empty parts; ".." and NUL are refused (they could only be mistakes or attacks).</summary>
        private static string Normalize(string relativePath)
        {
            if (relativePath != null && relativePath.IndexOf('\0') >= 0)
                throw new ArgumentException($"Relative path '{relativePath}' contains a NUL character.", nameof(relativePath));
            return RelativePath.Normalize(relativePath);
        }

        private static string NormalizeNonRoot(string relativePath)
        {
            var rel = Normalize(relativePath);
            if (rel.Length == 0) throw new ArgumentException("This operation needs a path below the root, not the root itself.", nameof(relativePath));
            return rel;
        }

        /// <summary>For messages: where the entry is as the admin would type it.</summary>
        private string Display(string rel) => rel.Length == 0 ? Path : Path.TrimEnd('/') + "/" + rel;

        /// <summary>
        /// A directory descriptor plus the final name of a path, the pair each *at call takes. The parent is opened
        /// beneath the root (O_PATH, never through a link); for a top-level name it is the root itself. Disposing
        /// closes what was opened and releases the lease on the root.
        /// </summary>
        private readonly struct At : IDisposable
        {
            public readonly int Dir;
            public readonly byte[] Name;
            private readonly bool _ownsDir;
            private readonly FdHandle.Lease _lease;

            public At(FdHandle.Lease lease, int dir, bool ownsDir, byte[] name)
            {
                _lease = lease;
                Dir = dir;
                _ownsDir = ownsDir;
                Name = name;
            }

            public void Dispose()
            {
                if (_ownsDir) LibC.close(Dir);
                _lease.Dispose();
            }
        }

        /// <summary>Opens the parent of a non-empty normalized path; 0, or the errno (nothing held then).</summary>
        private int TryAt(string rel, out At at)
        {
            at = default;
            var lease = _root.Acquire();
            var name = PathEncoding.ToCString(RelativePath.Name(rel));
            var parent = RelativePath.Parent(rel);
            if (parent.Length == 0)
            {
                at = new At(lease, lease.Fd, false, name);
                return 0;
            }
            int fd = Beneath.Open(lease.Fd, parent, Flags.O_PATH | Flags.O_DIRECTORY, 0);
            if (fd < 0)
            {
                lease.Dispose();
                return -fd;
            }
            at = new At(lease, fd, true, name);
            return 0;
        }

        private At AtOrThrow(string rel, string op)
        {
            int err = TryAt(rel, out var at);
            if (err != 0) throw PosixErrors.For(err, op, Display(rel));
            return at;
        }

        /// <summary>Opens a path beneath the root ("" = the root) with the given flags; throws on failure.</summary>
        private int OpenBeneath(string rel, int flags, string op)
        {
            using var lease = _root.Acquire();
            int fd = Beneath.Open(lease.Fd, rel, flags, 0);
            if (fd < 0) throw PosixErrors.For(-fd, op, Display(rel));
            return fd;
        }
    }
}
