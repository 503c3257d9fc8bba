namespace RealtimeMirror.Engine.Watching
{
    /// <summary>Which OS interface a watch uses. Auto: inotify on Linux, FileSystemWatcher elsewhere.</summary>
    public enum WatchBackend
    {
        Auto,
        /// <summary>Linux inotify directly: byte-exact names, IN_ISDIR, close-write, no lost events after moves.</summary>
        Inotify,
        /// <summary>.NET's FileSystemWatcher: works on every OS.</summary>
        Portable,
    }
}
