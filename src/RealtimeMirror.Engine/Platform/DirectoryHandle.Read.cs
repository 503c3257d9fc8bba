using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Win32.SafeHandles;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Platform
{
    // Stat, List and OpenRead: every lookup is an lstat on a descriptor that was itself opened beneath the root.
    public sealed partial class DirectoryHandle
    {
        private FileMeta StatImpl(string rel)
        {
            if (rel.Length == 0)
            {
                using var lease = _root.Acquire();
                int e = StatX.OfFd(lease.Fd, out var rootSt);
                if (e != 0) throw PosixErrors.For(e, "stat", Path);
                return rootSt.ToMeta("", null, 0);
            }
            int err = TryAt(rel, out var at);
            if (err == Errno.ENOENT || err == Errno.ENOTDIR) return null; // a parent is absent or a plain file
            if (err != 0) throw PosixErrors.For(err, "stat", Display(rel));   // ELOOP: a link where a directory should be
            using (at)
            {
                var meta = StatName(at.Dir, at.Name, rel, out err);
                if (meta == null && err != Errno.ENOENT && err != Errno.ENOTDIR) throw PosixErrors.For(err, "stat", Display(rel));
                return meta;
            }
        }

        /// <summary>
        /// lstat of one name in a directory descriptor, with readlinkat for a link. Null with the errno when it
        /// cannot be stat'ed. A link replaced by a non-link between the two calls is stat'ed again.
        /// </summary>
        private static FileMeta StatName(int dir, byte[] name, string rel, out int err)
        {
            for (int attempt = 0; ; attempt++)
            {
                err = StatX.NoFollow(dir, name, out var st);
                if (err != 0) return null;
                if (st.Type != Flags.S_IFLNK) return st.ToMeta(rel, null, 0);
                err = ReadLink(dir, name, out var target, out int bytes);
                if (err == 0) return st.ToMeta(rel, target, bytes);
                if (err != Errno.EINVAL || attempt > 2) return null; // EINVAL: no longer a link
            }
        }

        private static int ReadLink(int dir, byte[] name, out string target, out int byteCount)
        {
            target = null;
            byteCount = 0;
            for (int size = 4096; ; size *= 4)
            {
                var buf = new byte[size];
                long n = LibC.readlinkat(dir, name, buf, buf.Length);
                if (n < 0) return Errno.Last;
                if (n < size)
                {
                    byteCount = (int)n;
                    target = PathEncoding.FromBytes(buf, 0, (int)n);
                    return 0;
                }
            }
        }

        private List<FileMeta> ListImpl(string relDir)
        {
            int fd = OpenBeneath(relDir, Flags.O_RDONLY | Flags.O_DIRECTORY | Flags.O_NOFOLLOW, "list");
            try
            {
                var names = new List<byte[]>();
                int err = DirEntries.Read(fd, names);
                if (err != 0) throw PosixErrors.For(err, "list", Display(relDir));
                names.Sort(DirEntries.CompareBytes);
                var result = new List<FileMeta>(names.Count);
                foreach (var name in names)
                {
                    var rel = RelativePath.Combine(relDir, PathEncoding.FromBytes(name));
                    // lstat on the listed directory's own descriptor: nothing is resolved by path again.
                    var meta = StatName(fd, DirEntries.CString(name), rel, out err);
                    if (meta != null) result.Add(meta);
                    else if (err != Errno.ENOENT) throw PosixErrors.For(err, "stat", Display(rel)); // ENOENT: gone meanwhile
                }
                return result;
            }
            finally
            {
                LibC.close(fd);
            }
        }

        private FileStream OpenReadImpl(string rel, out FileMeta meta)
        {
            if (rel.Length == 0) throw new NotRegularFileException(Path, EntryKind.Directory);
            using var at = AtOrThrow(rel, "open");
            // Look before opening, so a device node is never opened (opening some devices acts, e.g. a tape rewinds).
            int err = StatX.NoFollow(at.Dir, at.Name, out var st);
            if (err != 0) throw PosixErrors.For(err, "open", Display(rel));
            if (st.Type != Flags.S_IFREG) throw new NotRegularFileException(Display(rel), StatX.KindOf(st.Type));
            // O_NONBLOCK: if a fifo was swapped in since the look, the open still returns at once.
            int fd;
            while ((fd = LibC.openat(at.Dir, at.Name, Flags.O_RDONLY | Flags.O_NOFOLLOW | Flags.O_NONBLOCK | Flags.O_CLOEXEC, 0)) < 0)
            {
                err = Errno.Last;
                if (err == Errno.EINTR) continue;
                // ELOOP: now a link; ENXIO: now a socket. Say what is there rather than an errno.
                if ((err == Errno.ELOOP || err == Errno.ENXIO) && StatX.NoFollow(at.Dir, at.Name, out st) == 0 && st.Type != Flags.S_IFREG)
                    throw new NotRegularFileException(Display(rel), StatX.KindOf(st.Type));
                throw PosixErrors.For(err, "open", Display(rel));
            }
            var handle = new SafeFileHandle((IntPtr)fd, true);
            try
            {
                err = StatX.OfFd(fd, out st);
                if (err != 0) throw PosixErrors.For(err, "fstat", Display(rel));
                if (st.Type != Flags.S_IFREG) throw new NotRegularFileException(Display(rel), StatX.KindOf(st.Type));
                int fl = LibC.fcntl(fd, Flags.F_GETFL, 0);
                if (fl < 0 || LibC.fcntl(fd, Flags.F_SETFL, fl & ~Flags.O_NONBLOCK) < 0) throw PosixErrors.For(Errno.Last, "fcntl", Display(rel));
                meta = st.ToMeta(rel, null, 0);
                return new FileStream(handle, FileAccess.Read, 81920);
            }
            catch
            {
                handle.Dispose();
                throw;
            }
        }
    }
}
