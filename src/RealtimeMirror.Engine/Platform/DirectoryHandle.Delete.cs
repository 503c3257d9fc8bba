using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Platform
{
    // Removal by descriptor: each directory is opened O_NOFOLLOW on its parent's descriptor and emptied through its
    // own, so a link planted anywhere in the tree is unlinked as a link and nothing outside is ever reached.
    public sealed partial class DirectoryHandle
    {
        private void DeleteImpl(string rel)
        {
            if (rel.Length == 0) throw new InvalidOperationException($"Refusing to delete the root '{Path}' itself.");
            int err = TryAt(rel, out var at);
            if (err == Errno.ENOENT || err == Errno.ENOTDIR) return; // absent already
            if (err != 0) throw PosixErrors.For(err, "delete", Display(rel)); // ELOOP: a link among the parents
            using (at)
            {
                err = RemoveEntry(at.Dir, at.Name, 0);
                if (err != 0 && err != Errno.ENOENT) throw PosixErrors.For(err, "delete", Display(rel));
            }
        }

        /// <summary>unlinkat a name; a directory is emptied first. 0 or the errno.</summary>
        private static int RemoveEntry(int dir, byte[] name, int depth)
        {
            if (LibC.unlinkat(dir, name, 0) == 0) return 0;
            int err = Errno.Last;
            // Linux says EISDIR for a directory (POSIX allows EPERM); check the type rather than trust either.
            if (err != Errno.EISDIR && err != Errno.EPERM) return err;
            if (StatX.NoFollow(dir, name, out var st) != 0 || st.Type != Flags.S_IFDIR) return err;
            return RemoveDirectory(dir, name, depth);
        }

        private static int RemoveDirectory(int parent, byte[] name, int depth)
        {
            // A tree deeper than this is not a file server's: stop rather than run out of stack or descriptors.
            if (depth > 4096) return Errno.ELOOP;
            for (int pass = 0; ; pass++)
            {
                int fd = LibC.openat(parent, name, Flags.O_RDONLY | Flags.O_DIRECTORY | Flags.O_NOFOLLOW | Flags.O_CLOEXEC, 0);
                if (fd < 0) return Errno.Last;
                try
                {
                    // Read every name before unlinking any: removing while reading may skip entries on some file systems.
                    var names = new List<byte[]>();
                    int err = DirEntries.Read(fd, names);
                    if (err != 0) return err;
                    foreach (var child in names)
                    {
                        err = RemoveEntry(fd, DirEntries.CString(child), depth + 1);
                        if (err != 0 && err != Errno.ENOENT) return err;
                    }
                }
                finally
                {
                    LibC.close(fd);
                }
                if (LibC.unlinkat(parent, name, Flags.AT_REMOVEDIR) == 0) return 0;
                int rmErr = Errno.Last;
                // ENOTEMPTY: something was written meanwhile; empty it again a few times, then report it.
                if (rmErr != Errno.ENOTEMPTY && rmErr != Errno.EEXIST || pass >= 3) return rmErr;
            }
        }
    }
}
