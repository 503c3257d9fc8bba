using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>
    /// What one kernel watch session over one root holds whatever the interface (an inotify instance with its
    /// watches, a fanotify group with its handle map): the kernel descriptor, the root held open, the walk that finds
    /// the directories to watch, and the subtrees the kernel would not watch, reported once and rescanned on a timer.
    /// Directories are found by listing raw names (getdents) on descriptors opened beneath the root without following
    /// links, so a name in any encoding is found and a planted symlink never takes the walk (or a watch) outside the
    /// tree; excluded directories are not watched at all (nothing in them would be reported). Owned by one thread
    /// (the reader), except Open and Dispose.
    /// </summary>
    internal abstract class KernelSession : IDisposable
    {
        /// <summary>What <see cref="Walk"/>'s visitor answers for a directory it could watch.</summary>
        protected const int ListIt = 0, SkipIt = 1;

        protected readonly string _root;
        protected readonly GlobFilter _exclude;
        protected readonly Action<string> _onFault;
        protected readonly int _rootFd;
        // errnos already reported: each condition is said once, not once per directory or per retry.
        private readonly HashSet<int> _reported = new HashSet<int>();

        protected KernelSession(string root, GlobFilter exclude, Action<string> onFault, int fd, int rootFd)
        {
            _root = root;
            _exclude = exclude;
            _onFault = onFault;
            Fd = fd;
            _rootFd = rootFd;
        }

        public int Fd { get; }
        public string RootPath => _root;
        /// <summary>Polled by long walks, so stopping the watch does not wait for a whole tree to be watched.</summary>
        public Func<bool> Stopping { get; set; }
        /// <summary>Subtrees the kernel would not watch: rescanned on a timer instead.</summary>
        public UnwatchedSubtrees Unwatched { get; } = new UnwatchedSubtrees();

        /// <summary>"inotify" or "fanotify", for messages.</summary>
        protected abstract string KernelName { get; }

        /// <summary>Watches a directory and every directory below it (the retry of an unwatched subtree).</summary>
        protected abstract void WatchSubtree(string dir);

        /// <summary>Watches the whole tree (a new session).</summary>
        public void WatchAll() => WatchSubtree("");

        /// <summary>The paths of the directories watched now (tests and diagnostics).</summary>
        public abstract IEnumerable<string> WatchedPaths();

        /// <summary>After lost events the directory map may be wrong: watch the whole tree again, drop what it no longer holds.</summary>
        public abstract void Resync();

        /// <summary>
        /// Visits a directory and every directory below it: each is opened beneath the root, handed to
        /// <paramref name="visit"/> (which watches it first, so a subdirectory made meanwhile is either listed or
        /// reported), then listed. The visitor answers <see cref="ListIt"/>, <see cref="SkipIt"/> (do not list it) or
        /// minus an errno (it cannot be watched). <paramref name="gone"/> hears of directories that were not there.
        /// </summary>
        protected void Walk(string top, Func<int, string, int> visit, Action<string> gone = null)
        {
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
                    // Gone: deleted or moved on (a later event says where).
                    if (-fd == Errno.EACCES || -fd == Errno.EPERM) CannotWatch(dir, -fd, stack);
                    else if (-fd == Errno.ENOENT) gone?.Invoke(dir);
                    continue;
                }
                try
                {
                    int answer = visit(fd, dir);
                    if (answer < 0) { CannotWatch(dir, -answer, stack); continue; }
                    if (answer == SkipIt) continue;
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
                    if (err != 0) CannotWatch(dir, err, null);
                }
                finally { LibC.close(fd); }
            }
        }

        /// <summary>Tries the unwatched subtrees again; returns them all (each needs a rescan either way).</summary>
        public List<string> RetryUnwatched()
        {
            var dirs = Unwatched.TakeAll();
            foreach (var d in dirs) WatchSubtree(d);
            if (Unwatched.Count == 0) _reported.Clear(); // fixed: say it again if it comes back
            return dirs;
        }

        /// <summary>
        /// A directory the kernel will not watch: its subtree goes on the rescan timer, and the condition is reported
        /// once. Where every directory still to visit would fail the same way (<see cref="FailsForAll"/>), they join
        /// it untried.
        /// </summary>
        protected void CannotWatch(string dir, int err, Stack<string> rest)
        {
            Unwatched.Add(dir);
            if (rest != null && FailsForAll(err))
                while (rest.Count > 0) Unwatched.Add(rest.Pop());
            if (!_reported.Add(err)) return;
            var full = RelativePath.ToFull(_root, dir);
            _onFault?.Invoke($"{_root}: cannot watch '{full}' with {KernelName}: {Why(err)}; changes below it are found by a rescan every 30 s instead.");
        }

        /// <summary>Whether an errno means no further directory can be watched either (inotify's watch limit).</summary>
        protected virtual bool FailsForAll(int err) => false;

        /// <summary>The reason and the fix, for the report.</summary>
        protected virtual string Why(int err) =>
            err == Errno.EACCES || err == Errno.EPERM ? "permission denied (watching it needs read and search permission on it)" : System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(err);

        public virtual void Dispose()
        {
            // Closing the descriptor removes all the kernel's watches or marks.
            LibC.close(Fd);
            LibC.close(_rootFd);
        }
    }
}
