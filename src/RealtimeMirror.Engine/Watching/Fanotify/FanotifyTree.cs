using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;
using static RealtimeMirror.Engine.Platform.Native.FanotifyMask;

namespace RealtimeMirror.Engine.Watching.Fanotify
{
    /// <summary>
    /// One fanotify group over one root: its descriptor, one FAN_MARK_FILESYSTEM mark per filesystem the tree
    /// spans (plus an inode mark on the root for its own removal or move), and the map from directory file handle
    /// to path below the root, built by walking the tree (name_to_handle_at on each directory) and kept in step
    /// from the events. The kernel reports the whole filesystem: an event whose directory is not in the map is
    /// looked up once (open_by_handle_at, then its path) and remembered as outside when it is. No per-directory
    /// kernel state, so no watch limit and no window in which a new subdirectory is unwatched (the walk, the
    /// unwatched subtrees and their report are <see cref="KernelSession"/>'s).
    /// Owned by one thread (the reader), except Open and Dispose.
    /// </summary>
    internal sealed unsafe class FanotifyTree : KernelSession
    {
        private const int MaxHandle = 128; // MAX_HANDLE_SZ
        private const int OutsideCacheLimit = 1 << 16;

        // The root as the kernel spells it (links resolved): resolved handles are compared with it.
        private readonly string _realRoot;
        // mount id -> fsid key of a mount seen in the walk; fsid key -> a directory fd on that filesystem (for
        // open_by_handle_at), null where the filesystem could not be marked.
        private readonly Dictionary<int, string> _mounts = new Dictionary<int, string>();
        private readonly Dictionary<string, int> _filesystems = new Dictionary<string, int>(StringComparer.Ordinal);
        private readonly HashSet<string> _outside = new HashSet<string>(StringComparer.Ordinal);
        private readonly byte[] _linkBuffer = new byte[4096];

        /// <summary>Test hook: an errno to fail marking the filesystem of a directory with (0 = mark it).</summary>
        public Func<string, int> MarkFault { get; set; }
        /// <summary>The kernel has FAN_RENAME (5.17): a move is one event with both names.</summary>
        public bool HasRename { get; }
        /// <summary>Events carry the object's own handle too (FAN_REPORT_TARGET_FID, 5.17).</summary>
        public bool HasTarget { get; private set; }
        public DirectoryMap<string> Map { get; } = new DirectoryMap<string>(StringComparer.Ordinal);
        public string RootKey { get; private set; }
        /// <summary>Filesystems marked (each one FAN_MARK_FILESYSTEM mark, whatever the tree's size).</summary>
        public int MarkedFilesystems { get; private set; }
        /// <summary>Handles looked up because the map did not have them (tests and diagnostics).</summary>
        public long Lookups { get; private set; }

        private FanotifyTree(string root, GlobFilter exclude, Action<string> onFault, int fd, int rootFd, bool hasRename, string realRoot)
            : base(root, exclude, onFault, fd, rootFd)
        {
            HasRename = hasRename;
            _realRoot = realRoot;
        }

        /// <summary>
        /// Why fanotify cannot watch this root, or null when it can: a group with directory handles and a filesystem
        /// mark on the root's filesystem are made and dropped (CAP_SYS_ADMIN, Linux 5.9, a filesystem with handles).
        /// </summary>
        public static string Unavailable(string root)
        {
            if (!OperatingSystem.IsLinux()) return "fanotify exists only on Linux";
            int fd = LibC.fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME, (uint)(Flags.O_RDONLY | Flags.O_CLOEXEC));
            if (fd < 0) return Why(Errno.Last, "fanotify_init");
            try
            {
                int r = LibC.fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM | FAN_MARK_ONLYDIR, Filesystem, Flags.AT_FDCWD, PathEncoding.ToCString(root));
                return r < 0 ? Why(Errno.Last, "a filesystem mark on " + root) : null;
            }
            finally { LibC.close(fd); }
        }

        private static string Why(int err, string what) =>
            err == Errno.EPERM ? $"fanotify needs CAP_SYS_ADMIN for {what} (not held)"
            : err == Errno.EINVAL ? $"this kernel's fanotify lacks directory handles (Linux 5.9) for {what}"
            : err == Errno.ENOSYS ? "this kernel has no fanotify"
            : err == Errno.EOPNOTSUPP || err == Errno.EXDEV || err == Errno.ENODEV ? $"the filesystem does not give file handles to fanotify ({what})"
            : $"{what} failed: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(err)}";

        /// <summary>
        /// A new group with the root's marks (no directories mapped yet); throws when fanotify cannot watch it.
        /// <paramref name="asBeforeLinux517"/> opens it as a kernel before 5.17 would (no target handles, no
        /// FAN_RENAME: a move comes as two events), so tests show that path converges on a newer kernel too.
        /// </summary>
        public static FanotifyTree Open(string root, GlobFilter exclude, Action<string> onFault, Func<string, int> markFault = null, bool asBeforeLinux517 = false)
        {
            // The moved or removed object's own handle where the kernel gives it (5.17); only the directory's before.
            bool target = !asBeforeLinux517;
            int fd = target ? LibC.fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME_TARGET, (uint)(Flags.O_RDONLY | Flags.O_CLOEXEC)) : -1;
            if (!target || (fd < 0 && Errno.Last == Errno.EINVAL))
            {
                target = false;
                fd = LibC.fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME, (uint)(Flags.O_RDONLY | Flags.O_CLOEXEC));
            }
            if (fd < 0) throw new IOException($"Cannot watch '{root}' with fanotify: {Why(Errno.Last, "fanotify_init")}.");
            int rootFd = LibC.open(PathEncoding.ToCString(root), Flags.O_RDONLY | Flags.O_DIRECTORY | Flags.O_CLOEXEC, 0);
            if (rootFd < 0)
            {
                int err = Errno.Last;
                LibC.close(fd);
                throw PosixErrors.For(err, "watch", root);
            }
            // FAN_RENAME where the kernel has it (5.17); the probe mark is replaced by the walk's own.
            bool rename = !asBeforeLinux517 && LibC.fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, Filesystem | FAN_RENAME, rootFd, null) == 0;
            int rootMark = LibC.fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_ONLYDIR, RootSelf, rootFd, null);
            var real = ReadFdLink(rootFd, new byte[4096]);
            if (rootMark < 0 || real == null)
            {
                int err = Errno.Last;
                LibC.close(rootFd);
                LibC.close(fd);
                throw new IOException($"Cannot watch '{root}' with fanotify: {Why(err, "a mark on " + root)}.");
            }
            var tree = new FanotifyTree(root, exclude, onFault, fd, rootFd, rename, real) { MarkFault = markFault, HasTarget = target };
            if (rename) tree.ResetMarks();
            return tree;
        }

        private void ResetMarks()
        {
            // The probe above marked the root's filesystem without asking MarkFault; the walk marks it properly.
            LibC.fanotify_mark(Fd, FAN_MARK_REMOVE | FAN_MARK_FILESYSTEM, Filesystem | FAN_RENAME, _rootFd, null);
        }

        private ulong FilesystemMask => HasRename ? Filesystem | FAN_RENAME : Filesystem | FAN_MOVED_FROM | FAN_MOVED_TO;

        /// <summary>
        /// Maps a directory and every directory below it (new filesystems met on the way are marked first, then the
        /// directory's handle is taken, then it is listed: a subdirectory made meanwhile is either listed or
        /// reported). Returns the keys it saw.
        /// </summary>
        public HashSet<string> MapTree(string top)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var handle = new byte[8 + MaxHandle];
            // Subdirectories a listing missed get no path in the map: their events are looked up, and the timer's
            // rescans cover what they hold. A directory gone meanwhile is looked up when it has events.
            Walk(top, (fd, dir) =>
            {
                var key = KeyOf(fd, dir, handle, out int err);
                if (key == null) return -err; // on a filesystem fanotify cannot watch: on the rescan timer
                Map.Set(key, dir);
                _outside.Remove(key);
                seen.Add(key);
                if (dir.Length == 0) RootKey = key;
                return ListIt;
            });
            return seen;
        }

        protected override void WatchSubtree(string dir) => MapTree(dir);

        public override IEnumerable<string> WatchedPaths() => Map.Subtree("").ConvertAll(e => e.Path);

        /// <summary>
        /// The directory's key (its filesystem marked first if it is new); null, with the errno, when it cannot be
        /// watched. <paramref name="handleBuffer"/> is room for a struct file_handle.
        /// </summary>
        private string KeyOf(int fd, string dir, byte[] handleBuffer, out int err)
        {
            err = 0;
            int mountId;
            fixed (byte* handle = handleBuffer)
            {
                *(uint*)handle = MaxHandle;
                if (LibC.name_to_handle_at(fd, new byte[] { 0 }, handle, out mountId, Flags.AT_EMPTY_PATH) < 0)
                {
                    err = Errno.Last;
                    return null;
                }
            }
            if (!_mounts.TryGetValue(mountId, out var fsid))
            {
                fsid = Fsid(fd);
                if (fsid != null && !_filesystems.ContainsKey(fsid))
                {
                    int fault = MarkFault?.Invoke(dir) ?? 0;
                    int r = fault != 0 ? -1 : LibC.fanotify_mark(Fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM | FAN_MARK_ONLYDIR, FilesystemMask, fd, null);
                    if (r < 0)
                    {
                        err = fault != 0 ? fault : Errno.Last;
                        return null; // asked again at the next directory of this mount, so a fixed cause is seen
                    }
                    // Kept open: open_by_handle_at needs a descriptor on the handle's filesystem.
                    int keep = LibC.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 3);
                    _filesystems[fsid] = keep;
                    MarkedFilesystems++;
                }
                if (fsid == null) { err = Errno.EOPNOTSUPP; return null; }
                _mounts[mountId] = fsid;
            }
            uint bytes = BitConverter.ToUInt32(handleBuffer, 0);
            var f = new ReadOnlySpan<byte>(handleBuffer, 0, 8 + (int)bytes);
            var fsidBytes = new byte[8];
            for (int i = 0; i < 8; i++) fsidBytes[i] = (byte)fsid[i];
            return HandleKey.Of(fsidBytes, f.Slice(4, 4), f.Slice(8));
        }

        private static string Fsid(int fd)
        {
            // struct statfs on 64-bit Linux: seven 8-byte fields, then f_fsid (two ints) at offset 56.
            byte* buf = stackalloc byte[256];
            if (LibC.fstatfs(fd, buf) < 0) return null;
            var chars = new char[8];
            for (int i = 0; i < 8; i++) chars[i] = (char)buf[56 + i];
            return new string(chars);
        }

        /// <summary>
        /// Where a directory the map does not know is: its path below the root, or null when it is outside the tree
        /// (or excluded, or gone). Outside answers are remembered, so the events of the rest of the filesystem cost
        /// one lookup per directory; a directory that later moves in is mapped by the move, which forgets that.
        /// </summary>
        public bool TryLookUp(in FanotifyHandle h, string key, out string rel)
        {
            rel = null;
            if (_outside.Contains(key)) return false;
            Lookups++;
            if (Resolve(h, key, out rel) && !_exclude.IsExcluded(rel, true)) return true;
            rel = null;
            if (_outside.Count >= OutsideCacheLimit) _outside.Clear();
            _outside.Add(key);
            return false;
        }

        private bool Resolve(in FanotifyHandle h, string key, out string rel)
        {
            rel = null;
            var fsid = key.Substring(0, 8);
            if (!_filesystems.TryGetValue(fsid, out int mountFd)) return false; // a filesystem the tree does not reach
            int fd;
            fixed (byte* b = h.Buffer) fd = LibC.open_by_handle_at(mountFd, b + h.FileHandleOffset, Flags.O_PATH | Flags.O_CLOEXEC);
            if (fd < 0) return false; // ESTALE: gone, and with it all it held
            try
            {
                if (StatX.OfFd(fd, out var st) != 0 || st.LinkCount == 0) return false; // removed, still referenced
                var path = ReadFdLink(fd, _linkBuffer);
                if (path == null) return false;
                if (path == _realRoot) { rel = ""; return true; }
                var prefix = _realRoot == "/" ? "/" : _realRoot + "/";
                if (!path.StartsWith(prefix, StringComparison.Ordinal)) return false;
                rel = path.Substring(prefix.Length);
                return rel.Length > 0;
            }
            finally { LibC.close(fd); }
        }

        private static string ReadFdLink(int fd, byte[] buffer)
        {
            long n = LibC.readlink(Encoding.ASCII.GetBytes("/proc/self/fd/" + fd + "\0"), buffer, buffer.Length);
            if (n <= 0 || n >= buffer.Length) return null;
            return PathEncoding.FromBytes(buffer, 0, (int)n);
        }

        /// <summary>A directory left the tree (deleted, moved out or excluded): forget it and what was below it.</summary>
        public void Unmap(string dir)
        {
            foreach (var (key, _) in Map.Subtree(dir)) Map.Remove(key);
            Unwatched.RemoveSubtree(dir);
        }

        /// <summary>
        /// A directory left the tree, known by its own handle: forget where the map has it (by its name, the map
        /// could be behind: a new directory of that name may be mapped there already). False when it was not mapped.
        /// </summary>
        public bool UnmapKey(string key)
        {
            if (!Map.TryGetPath(key, out var at)) return false;
            Unmap(at);
            return true;
        }

        /// <summary>A directory known by its own handle was renamed: move what the map has below where it has it.</summary>
        public bool MoveKey(string key, string to)
        {
            if (!Map.TryGetPath(key, out var at)) return false;
            if (at != to) MoveTree(at, to);
            return true;
        }

        /// <summary>A directory was renamed inside the tree: the handles below it are the same, only their paths change.</summary>
        public void MoveTree(string from, string to)
        {
            var keys = Map.Subtree(from).ConvertAll(e => e.Key);
            Map.MoveSubtree(keys, from, to);
            Unwatched.MoveSubtree(from, to);
        }

        /// <summary>
        /// After a rename inside the tree, makes sure the directory at its new name is mapped: when its creation was
        /// read after it had already moved on, it never was. Only its top is checked; what is unmapped below is
        /// looked up when it has events.
        /// </summary>
        public void EnsureMapped(string dir, bool whole)
        {
            if (whole) { MapTree(dir); return; }
            int fd = Beneath.Open(_rootFd, dir, Flags.O_RDONLY | Flags.O_DIRECTORY, 0);
            if (fd < 0) return;
            string key;
            try { key = KeyOf(fd, dir, new byte[8 + MaxHandle], out _); } // not mappable: MapTree below says why
            finally { LibC.close(fd); }
            if (key != null && Map.TryGetPath(key, out var at) && at == dir) return;
            MapTree(dir);
        }

        /// <summary>After lost events the map may be wrong: map the whole tree again and drop what the walk did not reach.</summary>
        public override void Resync()
        {
            Unwatched.TakeAll();
            _outside.Clear();
            var seen = MapTree("");
            foreach (var (key, _) in Map.Subtree(""))
                if (!seen.Contains(key)) Map.Remove(key);
        }

        protected override string KernelName => "fanotify";

        protected override string Why(int err) =>
            err == Errno.EOPNOTSUPP || err == Errno.EXDEV || err == Errno.ENODEV || err == Errno.EINVAL
                ? "its filesystem does not give fanotify file handles (mount it elsewhere, or watch it with -Backend Inotify)"
                : base.Why(err);

        public override void Dispose()
        {
            base.Dispose(); // closing the group removes its marks
            foreach (var fd in _filesystems.Values) LibC.close(fd);
        }
    }
}
