using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Watching.Inotify
{
    /// <summary>
    /// One inotify instance over one root: the wd map and the walk's way of watching a directory. inotify is not
    /// recursive, so every directory of the tree gets its own watch (the walk, the unwatched subtrees and their
    /// report are <see cref="KernelSession"/>'s). Owned by one thread.
    /// </summary>
    internal sealed class InotifyWatches : KernelSession
    {
        // Watching "/proc/self/fd/N" watches exactly the directory the walk opened; without /proc the full path
        // is used, where IN_DONT_FOLLOW at least refuses a link as the last component.
        private static readonly bool ProcFd = Directory.Exists("/proc/self/fd");

        /// <summary>Test hook: an errno to fail inotify_add_watch with for a directory (0 = really add it).</summary>
        public Func<string, int> AddWatchFault { get; set; }

        public WatchMap Map { get; } = new WatchMap();
        /// <summary>
        /// Directories that were gone when their records were read (ENOENT). When one was renamed meanwhile, the
        /// rename's records are already queued behind: the rename watches it at its new name. Cleared whenever the
        /// queue is empty, since by then every rename that could explain a miss has been read.
        /// </summary>
        private readonly HashSet<string> _missed = new HashSet<string>(StringComparer.Ordinal);

        private InotifyWatches(string root, GlobFilter exclude, Action<string> onFault, int fd, int rootFd)
            : base(root, exclude, onFault, fd, rootFd) { }

        protected override string KernelName => "inotify";

        /// <summary>A new inotify instance (no watches yet); throws when the root cannot be opened.</summary>
        public static InotifyWatches Open(string root, GlobFilter exclude, Action<string> onFault)
        {
            int fd = LibC.inotify_init1(InotifyMask.IN_NONBLOCK | InotifyMask.IN_CLOEXEC);
            if (fd < 0)
            {
                int err = Errno.Last;
                throw new IOException($"{root}: cannot create an inotify instance: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(err)}" +
                    (err == 24 ? " (fs.inotify.max_user_instances reached; raise it with sysctl)" : ""));
            }
            // The root itself may be reached through a symlink (the admin chose it); everything below is not.
            int rootFd = LibC.open(PathEncoding.ToCString(root), Flags.O_RDONLY | Flags.O_DIRECTORY | Flags.O_CLOEXEC, 0);
            if (rootFd < 0)
            {
                int err = Errno.Last;
                LibC.close(fd);
                throw PosixErrors.For(err, "watch", root);
            }
            return new InotifyWatches(root, exclude, onFault, fd, rootFd);
        }

        /// <summary>
        /// Watches a directory and every directory below it (the watch first, then the listing, so a subdirectory
        /// made meanwhile is either listed or reported). Returns the wds it saw.
        /// </summary>
        public HashSet<int> WatchTree(string top) => WatchTree(top, onlyIfNew: false);

        /// <summary>
        /// With <paramref name="onlyIfNew"/>, a top directory already watched is only re-homed, not walked: after a
        /// rename its subtree's watches moved with it, and walking every renamed tree again would cost its size.
        /// </summary>
        private HashSet<int> WatchTree(string top, bool onlyIfNew)
        {
            var seen = new HashSet<int>();
            Walk(top, (fd, dir) =>
            {
                int wd = AddWatch(fd, dir);
                if (wd < 0) return wd;
                bool known = Map.TryGetPath(wd, out _);
                Map.Set(wd, dir);
                seen.Add(wd);
                return known && onlyIfNew && dir == top ? SkipIt : ListIt;
            }, gone: dir => _missed.Add(dir)); // renamed meanwhile: the rename must watch it (see _missed)
            return seen;
        }

        protected override void WatchSubtree(string dir) => WatchTree(dir);

        public override IEnumerable<string> WatchedPaths() => Map.Subtree("").Select(e => e.Path);

        /// <summary>The watches at and below a directory now (taken when its move begins).</summary>
        public List<int> WatchesAt(string dir) => Map.Subtree(dir).ConvertAll(e => e.Key);

        /// <summary>A directory left the tree: stop watching it and what was below it when it left.</summary>
        public void UnwatchTree(string dir, IReadOnlyList<int> wds)
        {
            foreach (var wd in wds)
            {
                // A wd whose path is elsewhere by now was watched again since: its directory came back into the tree
                // (moved out and in within one read), and inotify gave the same wd for the same inode.
                if (!Map.TryGetPath(wd, out var path) || !WatchMap.IsAtOrBelow(path, dir)) continue;
                LibC.inotify_rm_watch(Fd, wd);
                Map.Remove(wd);
            }
            Unwatched.RemoveSubtree(dir);
        }

        /// <summary>A directory was renamed inside the tree: its watches moved with it (only the path map changes).</summary>
        public void MoveTree(string from, string to, IReadOnlyList<int> wds)
        {
            Map.MoveSubtree(wds, from, to);
            Unwatched.MoveSubtree(from, to);
        }

        /// <summary>
        /// After a rename inside the tree, makes sure the directory at its new name is watched. The moved watches
        /// may not be its own: when records are read late, the old name may have been watched on a directory made
        /// after the rename, or not watched at all (it was already gone when its creation was read); directories
        /// below it that were gone when read are watched at their new place too.
        /// </summary>
        public void EnsureWatchedAfterRename(string from, string to)
        {
            WatchTree(to, onlyIfNew: true);
            if (_missed.Count == 0) return;
            var moved = _missed.Where(m => WatchMap.IsAtOrBelow(m, from)).ToList();
            foreach (var m in moved) _missed.Remove(m);
            foreach (var m in moved) WatchTree(RelativePath.Moved(m, from, to));
        }

        /// <summary>The kernel queue is empty: no unread rename can explain a missed directory any more.</summary>
        public void QueueDrained() => _missed.Clear();

        /// <summary>
        /// After lost events the map may be wrong (a rename or move-out not seen): walk the whole tree again (a
        /// watched inode gives back its wd, so paths are corrected) and drop the watches the walk did not reach.
        /// </summary>
        public override void Resync()
        {
            Unwatched.TakeAll();
            var seen = WatchTree("");
            foreach (var wd in Map.Wds.Where(w => !seen.Contains(w)).ToList())
            {
                LibC.inotify_rm_watch(Fd, wd);
                Map.Remove(wd);
            }
        }

        private int AddWatch(int dirFd, string dir)
        {
            int fault = AddWatchFault?.Invoke(dir) ?? 0;
            if (fault != 0) return -fault;
            byte[] path;
            uint mask = InotifyMask.Directory;
            if (ProcFd)
            {
                path = Encoding.ASCII.GetBytes("/proc/self/fd/" + dirFd + "\0");
                mask &= ~InotifyMask.IN_DONT_FOLLOW; // the magic link must be followed to reach the directory
            }
            else path = PathEncoding.ToCString(RelativePath.ToFull(_root, dir));
            int wd = LibC.inotify_add_watch(Fd, path, mask);
            return wd >= 0 ? wd : -Errno.Last;
        }

        // At the watch limit every directory still to visit would fail the same way.
        protected override bool FailsForAll(int err) => err == Errno.ENOSPC;

        protected override string Why(int err)
        {
            if (err != Errno.ENOSPC) return base.Why(err);
            // In a user namespace (a container) its own user.max_inotify_watches may be the lower, binding limit; in
            // the first namespace the two files are one setting.
            long host = ReadLimit("/proc/sys/fs/inotify/max_user_watches"), own = ReadLimit("/proc/sys/user/max_inotify_watches");
            bool inNamespace = own > 0 && (host <= 0 || own < host);
            var name = inNamespace ? "user.max_inotify_watches" : "fs.inotify.max_user_watches";
            long limit = inNamespace ? own : host;
            return $"the inotify watch limit is reached ({name}{(limit > 0 ? " = " + limit : "")}{(inNamespace ? " in this user namespace" : "")}). " +
                   $"Raise it: sysctl {name}={(limit > 0 ? Math.Max(limit * 4, 524288) : 524288)} (and in /etc/sysctl.d to keep it)";
        }

        private static long ReadLimit(string file)
        {
            try { return long.Parse(File.ReadAllText(file).Trim()); }
            catch (Exception) { return 0; }
        }
    }
}
