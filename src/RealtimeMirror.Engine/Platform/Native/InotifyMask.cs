namespace RealtimeMirror.Engine.Platform.Native
{
    /// <summary>inotify(7) event bits (the same on every Linux architecture) and inotify_init1 flags.</summary>
    internal static class InotifyMask
    {
        public const uint IN_MODIFY = 0x2, IN_ATTRIB = 0x4, IN_CLOSE_WRITE = 0x8, IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80,
            IN_CREATE = 0x100, IN_DELETE = 0x200, IN_DELETE_SELF = 0x400, IN_MOVE_SELF = 0x800;
        public const uint IN_UNMOUNT = 0x2000, IN_Q_OVERFLOW = 0x4000, IN_IGNORED = 0x8000;
        public const uint IN_ONLYDIR = 0x1000000, IN_DONT_FOLLOW = 0x2000000, IN_EXCL_UNLINK = 0x4000000, IN_ISDIR = 0x40000000;

        /// <summary>IN_NONBLOCK and IN_CLOEXEC are O_NONBLOCK and O_CLOEXEC.</summary>
        public const int IN_NONBLOCK = Flags.O_NONBLOCK, IN_CLOEXEC = Flags.O_CLOEXEC;

        /// <summary>
        /// What every watched directory asks for. IN_EXCL_UNLINK: no events from files already unlinked (a deleted
        /// log still being written would otherwise flood the queue with changes to a name that is gone).
        /// </summary>
        public const uint Directory = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB |
            IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_ONLYDIR;
    }
}
