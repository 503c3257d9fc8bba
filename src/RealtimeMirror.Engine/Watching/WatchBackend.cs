namespace RealtimeMirror.Engine.Watching
{
    /// <summary>
    /// Which OS interface a watch uses. Auto: fanotify where permitted (Linux 5.9+, CAP_SYS_ADMIN, a filesystem
    /// that gives file handles), else inotify on Linux, else FileSystemWatcher.
    /// </summary>
    public enum WatchBackend
    {
        Auto,
        /// <summary>Linux inotify directly: byte-exact names, IN_ISDIR, close-write; one kernel watch per directory.</summary>
        Inotify,
        /// <summary>.NET's FileSystemWatcher: works on every OS.</summary>
        Portable,
        /// <summary>Linux fanotify with directory file handles: one mark per filesystem, no per-directory watches.</summary>
        Fanotify,
    }
}
