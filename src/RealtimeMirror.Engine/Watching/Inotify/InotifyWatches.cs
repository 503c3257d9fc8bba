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
    /// One inotify instance over one root: its descriptor, the wd map, and the directories it could not watch.
    /// inotify is not recursive, so every directory of the tree gets its own watch; directories are found by
    /// listing raw names (getdents) on descriptors opened beneath the root without following links, so a name in
    /// any encoding is found and a planted symlink never takes the walk (or a watch) outside the tree.
    /// Excluded directories are not watched at all (nothing in them would be reported). Owned by one thread.
    /// </summary>
    internal sealed class InotifyWatches : IDisposable
    {
        // Watching "/proc/self/fd/N" watches exactly the directory the walk opened; without /proc the full path
        // is used, where IN_DONT_FOLLOW at least refuses a link as the last component.
        private static readonly bool ProcFd = Directory.Exists("/proc/self/fd");

        private readonly string _root;
        private readonly GlobFilter _exclude;
        private readonly Action<string> _onFault;
        private readonly int _rootFd;
        // errnos already reported: each condition is said once, not once per directory or per retry.
        private readonly HashSet<int> _reported = new HashSet<int>();

        /// <summary>Test hook: an errno to fail inotify_add_watch with for a directory (0 = really add it).</summary>
        public Func<string, int> AddWatchFault { get; set; }

        /// <summary>Polled by long walks, so stopping the watch does not wait for a whole tree to be watched.</summary>
        public Func<bool> Stopping { get; set; }

        public int Fd { get; }
        public WatchMap Map { get; } = new WatchMap();
        /// <summary>
        /// Directories that were gone when their records were read (ENOENT). When one was renamed meanwhile, the
        /// rename's records are already queued behind: the rename watches it at its new name. Cleared whenever the
        /// queue is empty, since by then every rename that could explain a miss has been read.
        /// </summary>
        private readonly HashSet<string> _missed = new HashSet<string>(StringComparer.Ordinal);
        public UnwatchedSubtrees Unwatched { get; } = new UnwatchedSubtrees();

        private InotifyWatches(string root, GlobFilter exclude, Action<string> onFault, int fd, int rootFd)
        {
            _root = root;
            _exclude = exclude;
            _onFault = onFault;
            Fd = fd;
            _rootFd = rootFd;
        }

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
            var stack = new Stack<string>();
            stack.Push(top);
            var names = new List<byte[]>();
            var types = new List<byte>();
            while (stack.Count > 0 && Stopping?.Invoke() != true)
            {
                var dir = stack.Pop();
                int fd = Beneath.Open(_rootFd, dir, Flags.O_RDONLY | Flags.O_DIRECTORY, 0);
                if (fd < 0)
                {
                    // A file or symlink by now: the event that named it is its hint, there is nothing to watch.
                    // Gone: deleted, moved out, or renamed (then the rename must watch it; see _missed).
                    if (-fd == Errno.EACCES || -fd == Errno.EPERM) NotWatched(dir, -fd, stack);
                    else if (-fd == Errno.ENOENT) _missed.Add(dir);
                    continue;
                }
                try
                {
                    int wd = AddWatch(fd, dir);
                    if (wd < 0) { NotWatched(dir, -wd, stack); continue; }
                    bool known = Map.TryGetPath(wd, out _);
                    Map.Set(wd, dir);
                    seen.Add(wd);
                    if (known && onlyIfNew && dir == top) continue;
                    names.Clear();
                    types.Clear();
                    int err = DirEntries.Read(fd, names, types);
                    for (int i = 0; i < names.Count; i++)
                    {
                        if (types[i] != DirEntries.DT_DIR && types[i] != DirEntries.DT_UNKNOWN) continue;
                        var child = RelativePath.Combine(dir, PathEncoding.FromBytes(names[i]));
                        if (!_exclude.IsExcluded(child)) stack.Push(child);
                    }
                    // Subdirectories the listing missed are unwatched: let the timer's rescans cover them.
                    if (err != 0) NotWatched(dir, err, null);
                }
                finally { LibC.close(fd); }
            }
            return seen;
        }

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
            foreach (var m in moved) WatchTree(to + m.Substring(from.Length));
        }

        /// <summary>The kernel queue is empty: no unread rename can explain a missed directory any more.</summary>
        public void QueueDrained() => _missed.Clear();

        /// <summary>
        /// After lost events the map may be wrong (a rename or move-out not seen): walk the whole tree again (a
        /// watched inode gives back its wd, so paths are corrected) and drop the watches the walk did not reach.
        /// </summary>
        public void Resync()
        {
            Unwatched.TakeAll();
            var seen = WatchTree("");
            foreach (var wd in Map.Wds.Where(w => !seen.Contains(w)).ToList())
            {
                LibC.inotify_rm_watch(Fd, wd);
                Map.Remove(wd);
            }
        }

        /// <summary>Tries the unwatched subtrees again; returns them all (each needs a rescan either way).</summary>
        public List<string> RetryUnwatched()
        {
            var dirs = Unwatched.TakeAll();
            foreach (var d in dirs) WatchTree(d);
            if (Unwatched.Count == 0) _reported.Clear(); // fixed: say it again if it comes back
            return dirs;
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

        /// <summary>
        /// A directory the kernel will not watch: its subtree goes on the rescan timer, and the condition is reported
        /// once. At the watch limit every directory still to visit would fail the same way, so they join it untried.
        /// </summary>
        private void NotWatched(string dir, int err, Stack<string> rest)
        {
            Unwatched.Add(dir);
            if (err == Errno.ENOSPC && rest != null)
                while (rest.Count > 0) Unwatched.Add(rest.Pop());
            if (!_reported.Add(err)) return;
            var full = RelativePath.ToFull(_root, dir);
            string why;
            if (err == Errno.ENOSPC)
            {
                long limit = ReadLimit();
                why = $"the inotify watch limit is reached (fs.inotify.max_user_watches{(limit > 0 ? " = " + limit : "")}). " +
                      $"Raise it: sysctl fs.inotify.max_user_watches={(limit > 0 ? Math.Max(limit * 4, 524288) : 524288)} (and in /etc/sysctl.d to keep it)";
            }
            else if (err == Errno.EACCES || err == Errno.EPERM) why = "permission denied";
            else why = System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(err);
            _onFault?.Invoke($"{_root}: cannot watch '{full}': {why}; changes below it are found by a rescan every 30 s instead.");
        }

        private static long ReadLimit()
        {
            try { return long.Parse(File.ReadAllText("/proc/sys/fs/inotify/max_user_watches").Trim()); }
            catch (Exception) { return 0; }
        }

        public void Dispose()
        {
            // Closing the instance removes all its watches.
            LibC.close(Fd);
            LibC.close(_rootFd);
        }
    }
}
