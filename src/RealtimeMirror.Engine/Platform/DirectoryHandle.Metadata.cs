using System;
using Microsoft.Win32.SafeHandles;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Platform
{
    // Owner, mode and times, applied to the entry itself: through a descriptor opened O_NOFOLLOW, or by name with
    // AT_SYMLINK_NOFOLLOW on a parent descriptor that was opened beneath the root.
    public sealed partial class DirectoryHandle
    {
        /// <summary>The three operations, each returning 0 or an errno, on one target (a descriptor, or a name at a descriptor).</summary>
        private interface IMetaTarget
        {
            int Chown(uint uid, uint gid);
            int Chmod(uint mode);
            int SetTimes(long[] times);
        }

        private sealed class FdTarget : IMetaTarget
        {
            private readonly int _fd;
            public FdTarget(int fd) => _fd = fd;
            public int Chown(uint uid, uint gid) => LibC.fchown(_fd, uid, gid) == 0 ? 0 : Errno.Last;
            public int Chmod(uint mode) => LibC.fchmod(_fd, mode) == 0 ? 0 : Errno.Last;
            public int SetTimes(long[] times) => LibC.futimens(_fd, times) == 0 ? 0 : Errno.Last;
        }

        /// <summary>A name that cannot be opened (a link, fifo or device, or a file we may not read): *at calls that never follow.</summary>
        private sealed class NameTarget : IMetaTarget
        {
            private static volatile bool s_noFchmodat2;
            private readonly int _dir;
            private readonly byte[] _name;
            public NameTarget(int dir, byte[] name) { _dir = dir; _name = name; }

            public int Chown(uint uid, uint gid) => LibC.fchownat(_dir, _name, uid, gid, Flags.AT_SYMLINK_NOFOLLOW) == 0 ? 0 : Errno.Last;

            public int Chmod(uint mode)
            {
                if (!s_noFchmodat2)
                {
                    // fchmodat2 (Linux 6.6) honours AT_SYMLINK_NOFOLLOW; on a link it says EOPNOTSUPP, and links have no mode to set.
                    if (LibC.syscall_fchmodat2(Flags.SYS_fchmodat2, _dir, _name, mode, Flags.AT_SYMLINK_NOFOLLOW) == 0) return 0;
                    int err = Errno.Last;
                    if (err == Errno.EOPNOTSUPP) return 0;
                    if (err != Errno.ENOSYS) return err;
                    s_noFchmodat2 = true;
                }
                // Older kernels: fchmodat follows a final link, so look first; a link is skipped.
                int e = StatX.NoFollow(_dir, _name, out var st);
                if (e != 0) return e;
                if (st.Type == Flags.S_IFLNK) return 0;
                return LibC.fchmodat(_dir, _name, mode, 0) == 0 ? 0 : Errno.Last;
            }

            public int SetTimes(long[] times) => LibC.utimensat(_dir, _name, times, Flags.AT_SYMLINK_NOFOLLOW) == 0 ? 0 : Errno.Last;
        }

        private bool SetMetadataImpl(string rel, FileMeta meta, bool setOwner)
        {
            if (meta == null) throw new ArgumentNullException(nameof(meta));
            if (rel.Length == 0)
            {
                int rootFd = OpenBeneath("", Flags.O_RDONLY | Flags.O_DIRECTORY, "open");
                try { return Apply(new FdTarget(rootFd), meta, setOwner, false, Path); }
                finally { LibC.close(rootFd); }
            }
            using var at = AtOrThrow(rel, "set metadata on");
            for (int attempt = 0; attempt < 4; attempt++)
            {
                int err = StatX.NoFollow(at.Dir, at.Name, out var st);
                if (err != 0) throw PosixErrors.For(err, "set metadata on", Display(rel));
                RefuseShared(st, rel);
                if (st.Type != Flags.S_IFREG && st.Type != Flags.S_IFDIR)
                    return Apply(new NameTarget(at.Dir, at.Name), meta, setOwner, st.Type == Flags.S_IFLNK, Display(rel));
                // A descriptor makes owner, mode and times land on one and the same inode, the one whose link count was
                // looked at. O_NONBLOCK: should a fifo have been swapped in meanwhile, the open does not wait for a writer.
                int fd = LibC.openat(at.Dir, at.Name, Flags.O_RDONLY | Flags.O_NOFOLLOW | Flags.O_NONBLOCK | Flags.O_CLOEXEC, 0);
                if (fd < 0)
                {
                    err = Errno.Last;
                    // Not readable by us (not root, mode 0200 say): the no-follow *at calls, which need no read access.
                    if (err == Errno.EACCES) return Apply(new NameTarget(at.Dir, at.Name), meta, setOwner, false, Display(rel));
                    // Replaced meanwhile (ELOOP: a link now; ENXIO: a socket; ENOENT: gone): look again.
                    if (err == Errno.ELOOP || err == Errno.ENXIO || err == Errno.ENOENT || err == Errno.EINTR) continue;
                    throw PosixErrors.For(err, "set metadata on", Display(rel));
                }
                try
                {
                    if (StatX.OfFd(fd, out var opened) != 0 || opened.Inode != st.Inode || opened.Type != st.Type) continue;
                    RefuseShared(opened, rel);
                    return Apply(new FdTarget(fd), meta, setOwner, false, Display(rel));
                }
                finally { LibC.close(fd); }
            }
            // Swapped at every look: someone is racing us. Never apply to whatever is there now; the next plan looks again.
            throw PosixErrors.For(Errno.ENOENT, "set metadata on", Display(rel));
        }

        /// <summary>
        /// A non-directory with more than one name shares its inode with another name, perhaps outside the replica (a
        /// hard link to /etc/shadow planted by a user of the backup host): owner, mode or times set on it would change
        /// that file too. Such an entry is never changed in place; the caller replaces it with a new one instead.
        /// </summary>
        private void RefuseShared(StatX st, string rel)
        {
            if (st.Type != Flags.S_IFDIR && st.LinkCount > 1) throw new SharedInodeException(Display(rel), st.LinkCount);
        }

        private static bool SetMetadataOnFile(SafeFileHandle file, FileMeta meta, bool setOwner)
        {
            if (file == null) throw new ArgumentNullException(nameof(file));
            if (meta == null) throw new ArgumentNullException(nameof(meta));
            bool added = false;
            file.DangerousAddRef(ref added);
            try { return Apply(new FdTarget((int)file.DangerousGetHandle()), meta, setOwner, meta.Kind == EntryKind.Symlink, "(open file)"); }
            finally { if (added) file.DangerousRelease(); }
        }

        /// <summary>
        /// Owner first (chown clears set-id bits), then mode, then times (any change above would move ctime, not
        /// mtime, but times last keeps that true whatever the file system). Without the owner, set-uid/set-gid
        /// are dropped: a set-uid binary must never end up owned by someone else.
        /// </summary>
        private static bool Apply(IMetaTarget target, FileMeta meta, bool setOwner, bool isLink, string display)
        {
            bool ownerSet = false;
            if (setOwner && (meta.Uid >= 0 || meta.Gid >= 0))
            {
                uint uid = meta.Uid >= 0 ? (uint)meta.Uid : uint.MaxValue; // -1: leave as is
                uint gid = meta.Gid >= 0 ? (uint)meta.Gid : uint.MaxValue;
                int err = target.Chown(uid, gid);
                if (err == 0) ownerSet = true;
                // EPERM: not root (a member may still set one of its groups); EINVAL: an id this user namespace cannot map.
                else if (err == Errno.EPERM || err == Errno.EINVAL)
                {
                    if (gid != uint.MaxValue) target.Chown(uint.MaxValue, gid); // best effort: not an error either way
                }
                else throw PosixErrors.For(err, "chown", display);
            }
            if (!isLink && meta.Mode >= 0)
            {
                int mode = meta.Mode & 0xFFF;
                if (!ownerSet) mode &= ~0xC00; // 06000
                int err = target.Chmod((uint)mode);
                if (err != 0) throw PosixErrors.For(err, "chmod", display);
            }
            var times = new long[] { 0, Flags.UTIME_NOW, meta.MTime, meta.MTimeNanos };
            int terr = target.SetTimes(times);
            if (terr != 0) throw PosixErrors.For(terr, "set times on", display);
            return ownerSet;
        }
    }
}
