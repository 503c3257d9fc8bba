namespace RealtimeMirror.Engine.Platform.Native
{
    /// <summary>fanotify(7) constants (include/uapi/linux/fanotify.h; the same on every Linux architecture).</summary>
    internal static class FanotifyMask
    {
        // fanotify_init flags
        public const uint FAN_CLOEXEC = 0x1, FAN_NONBLOCK = 0x2, FAN_CLASS_NOTIF = 0x0;
        public const uint FAN_REPORT_FID = 0x200, FAN_REPORT_DIR_FID = 0x400, FAN_REPORT_NAME = 0x800;
        public const uint FAN_REPORT_TARGET_FID = 0x1000;
        public const uint FAN_REPORT_DFID_NAME = FAN_REPORT_DIR_FID | FAN_REPORT_NAME;
        public const uint FAN_REPORT_DFID_NAME_TARGET = FAN_REPORT_DFID_NAME | FAN_REPORT_FID | FAN_REPORT_TARGET_FID;

        // fanotify_mark flags
        public const uint FAN_MARK_ADD = 0x1, FAN_MARK_REMOVE = 0x2, FAN_MARK_DONT_FOLLOW = 0x4, FAN_MARK_ONLYDIR = 0x8,
            FAN_MARK_FILESYSTEM = 0x100;

        // event bits
        public const ulong FAN_MODIFY = 0x2, FAN_ATTRIB = 0x4, FAN_CLOSE_WRITE = 0x8, FAN_MOVED_FROM = 0x40, FAN_MOVED_TO = 0x80,
            FAN_CREATE = 0x100, FAN_DELETE = 0x200, FAN_DELETE_SELF = 0x400, FAN_MOVE_SELF = 0x800, FAN_Q_OVERFLOW = 0x4000,
            FAN_RENAME = 0x10000000, FAN_ONDIR = 0x40000000;

        // info record types
        public const byte FAN_EVENT_INFO_TYPE_FID = 1, FAN_EVENT_INFO_TYPE_DFID_NAME = 2, FAN_EVENT_INFO_TYPE_DFID = 3,
            FAN_EVENT_INFO_TYPE_OLD_DFID_NAME = 10, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME = 12;

        public const int FANOTIFY_METADATA_VERSION = 3;

        /// <summary>What the filesystem mark asks for (FAN_RENAME where the kernel has it, 5.17; else the move halves).</summary>
        public const ulong Filesystem = FAN_CREATE | FAN_DELETE | FAN_MODIFY | FAN_CLOSE_WRITE | FAN_ATTRIB | FAN_ONDIR;
        /// <summary>The root directory's own mark: it was removed or moved away.</summary>
        public const ulong RootSelf = FAN_DELETE_SELF | FAN_MOVE_SELF | FAN_ONDIR;
    }
}
