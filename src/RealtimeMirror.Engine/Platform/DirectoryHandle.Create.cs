using System;
using System.IO;
using Microsoft.Win32.SafeHandles;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Platform
{
    // Making and moving entries: each is one *at call on a parent descriptor opened beneath the root.
    public sealed partial class DirectoryHandle
    {
        private void CreateDirectoryImpl(string rel)
        {
            using var at = AtOrThrow(rel, "mkdir");
            // 0700 until SetMetadata applies the real mode: nobody else sees into it in between.
            if (LibC.mkdirat(at.Dir, at.Name, 0x1C0) == 0) return;
            int err = Errno.Last;
            if (err == Errno.EEXIST && StatX.NoFollow(at.Dir, at.Name, out var st) == 0 && st.Type == Flags.S_IFDIR) return;
            throw PosixErrors.For(err, "mkdir", Display(rel));
        }

        private FileStream CreateTempImpl(string finalRel, out string tempRel)
        {
            using var at = AtOrThrow(finalRel, "create");
            var parent = RelativePath.Parent(finalRel);
            var finalName = RelativePath.Name(finalRel);
            for (int attempt = 0; ; attempt++)
            {
                var tempName = TempName(finalName);
                int fd = LibC.openat(at.Dir, PathEncoding.ToCString(tempName),
                    Flags.O_CREAT | Flags.O_EXCL | Flags.O_WRONLY | Flags.O_NOFOLLOW | Flags.O_CLOEXEC, 0x180 /*0600*/);
                if (fd >= 0)
                {
                    tempRel = RelativePath.Combine(parent, tempName);
                    return new FileStream(new SafeFileHandle((IntPtr)fd, true), FileAccess.Write, 81920);
                }
                int err = Errno.Last;
                if ((err == Errno.EEXIST || err == Errno.EINTR) && attempt < 8) continue; // a fresh random name
                throw PosixErrors.For(err, "create", Display(RelativePath.Combine(parent, tempName)));
            }
        }

        private void CreateSymlinkImpl(string target, string rel)
        {
            if (string.IsNullOrEmpty(target)) throw new ArgumentException("A symlink needs a target.", nameof(target));
            using var at = AtOrThrow(rel, "symlink");
            PosixErrors.Check(LibC.symlinkat(PathEncoding.ToCString(target), at.Dir, at.Name), "symlink", Display(rel));
        }

        private void CreateSpecialImpl(string rel, FileMeta meta)
        {
            int type;
            switch (meta.Kind)
            {
                case EntryKind.Fifo: type = Flags.S_IFIFO; break;
                case EntryKind.CharDevice: type = Flags.S_IFCHR; break;
                case EntryKind.BlockDevice: type = Flags.S_IFBLK; break;
                case EntryKind.Socket: throw new NotSupportedException($"'{Display(rel)}': a socket cannot be recreated (only its server can bind one).");
                default: throw new ArgumentException($"{meta.Kind} is not a special file.", nameof(meta));
            }
            // The kernel's mknodat takes the 32-bit dev encoding; glibc's 64-bit makedev agrees on its low half.
            ulong dev = type == Flags.S_IFIFO ? 0 : (ulong)meta.DeviceNumber;
            if (dev > uint.MaxValue) throw PosixErrors.For(Errno.EOVERFLOW, "mknod", Display(rel));
            using var at = AtOrThrow(rel, "mknod");
            // 0600 until SetMetadata applies the real mode.
            long rc = LibC.syscall_mknodat(Flags.SYS_mknodat, at.Dir, at.Name, (uint)(type | 0x180), (uint)dev);
            if (rc < 0) throw PosixErrors.For(Errno.Last, "mknod", Display(rel));
        }

        private void CreateHardLinkImpl(string existingRel, string newRel)
        {
            using var from = AtOrThrow(existingRel, "link");
            using var to = AtOrThrow(newRel, "link");
            // flags 0: no AT_SYMLINK_FOLLOW, so a link is linked as itself, never its target.
            PosixErrors.Check(LibC.linkat(from.Dir, from.Name, to.Dir, to.Name, 0), "link", Display(existingRel) + "' -> '" + Display(newRel));
        }

        private void RenameImpl(string fromRel, string toRel)
        {
            using var from = AtOrThrow(fromRel, "rename");
            using var to = AtOrThrow(toRel, "rename");
            PosixErrors.Check(LibC.renameat(from.Dir, from.Name, to.Dir, to.Name), "rename", Display(fromRel) + "' -> '" + Display(toRel));
        }
    }
}
