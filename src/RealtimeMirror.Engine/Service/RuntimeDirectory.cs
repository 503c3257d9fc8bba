using System;
using System.IO;
using RealtimeMirror.Engine.Platform;

namespace RealtimeMirror.Engine.Service
{
    /// <summary>
    /// Where running services publish their status files: $REALTIMEMIRROR_RUNTIME_DIR if set, else /run/realtimemirror
    /// as root (the same for a systemd service and an admin's login shell, whose XDG_RUNTIME_DIR differs), else
    /// $XDG_RUNTIME_DIR/realtimemirror, else /tmp/realtimemirror-UID.
    /// </summary>
    public static class RuntimeDirectory
    {
        public static string Resolve()
        {
            var own = Environment.GetEnvironmentVariable("REALTIMEMIRROR_RUNTIME_DIR");
            if (!string.IsNullOrEmpty(own)) return Path.GetFullPath(own);
            if (OperatingSystem.IsWindows()) return Path.Combine(Path.GetTempPath(), "realtimemirror");
            uint uid = ProcessIdentity.EffectiveUserId;
            if (uid == 0) return "/run/realtimemirror";
            var xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            if (!string.IsNullOrEmpty(xdg)) return Path.Combine(xdg, "realtimemirror");
            return $"/tmp/realtimemirror-{uid}";
        }

        /// <summary>
        /// Creates the directory (0700) if needed and refuses one we must not trust: in /tmp anyone could have made
        /// it first, as a symlink or writable by others, to plant files for Stop-MirrorWatch or swap ours.
        /// </summary>
        public static string Ensure(string directory)
        {
            if (OperatingSystem.IsWindows()) { Directory.CreateDirectory(directory); return directory; }
            if (!Posix.TryLStat(directory, out _))
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Check(directory);
            return directory;
        }

        /// <summary>Throws unless the directory is a real directory owned by us that nobody else can write to.</summary>
        public static void Check(string directory)
        {
            if (OperatingSystem.IsWindows()) return;
            if (!Posix.TryLStat(directory, out var st)) throw new DirectoryNotFoundException($"The runtime directory '{directory}' does not exist.");
            if (!st.IsDirectory) throw new IOException($"The runtime directory '{directory}' is not a directory (a symlink?); refusing to use it.");
            if (st.Uid != ProcessIdentity.EffectiveUserId) throw new UnauthorizedAccessException($"The runtime directory '{directory}' belongs to uid {st.Uid}, not to us; refusing to use it.");
            // Others must not plant or replace files (S_IWGRP|S_IWOTH). Reading is harmless, since each file is 0600, and a
            // directory made by systemd's RuntimeDirectory= is 0755 unless told otherwise.
            if ((st.Mode & 0x12) != 0) throw new UnauthorizedAccessException($"The runtime directory '{directory}' is writable by group or others (mode {Convert.ToString(st.Mode & 0xFFF, 8)}); make it 0700.");
        }

        public static string StatusFileName(int processId, int watchId) => $"{processId}-{watchId}.json";
    }
}
