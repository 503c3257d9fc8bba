using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;

namespace RealtimeMirror.Engine.Platform
{
    /// <summary>
    /// Names a process by pid and start time, because a pid alone is recycled: a status file left by a process that
    /// died must never lead us to read or signal the unrelated process that got its pid later.
    /// </summary>
    public static class ProcessIdentity
    {
        private const int SIGTERM = 15;
        private const int ENOSYS = 38, ESRCH = 3;
        // The same numbers on every Linux architecture (added in 5.1 with the unified syscall table).
        private const long SYS_pidfd_send_signal = 424, SYS_pidfd_open = 434;

        [DllImport("libc", SetLastError = true)] private static extern int kill(int pid, int sig);
        [DllImport("libc", SetLastError = true)] private static extern long syscall(long number, long a1, long a2);
        [DllImport("libc", SetLastError = true)] private static extern long syscall(long number, long a1, long a2, long a3, long a4);
        [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
        [DllImport("libc")] private static extern long sysconf(int name);
        [DllImport("libc")] private static extern uint geteuid();

        public static int CurrentId { get; } = Environment.ProcessId;

        /// <summary>This process's start mark, read once.</summary>
        public static long CurrentStartMark { get; } = StartMark(Environment.ProcessId) ?? 0;

        public static uint EffectiveUserId => OperatingSystem.IsWindows() ? 0 : geteuid();

        /// <summary>
        /// An opaque mark of when the process started, equal for the same process and different for a later one with
        /// the same pid: on Linux the start time in clock ticks since boot (/proc/PID/stat field 22). Null when no
        /// such process exists.
        /// </summary>
        public static long? StartMark(int pid)
        {
            if (pid <= 0) return null;
            if (OperatingSystem.IsLinux())
            {
                string stat;
                try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
                catch (IOException) { return null; }
                catch (UnauthorizedAccessException) { return null; }
                // The command name is in parentheses and may itself hold spaces or ')': parse after the last ')'.
                var fields = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
                return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
            }
            try { using (var p = Process.GetProcessById(pid)) return p.StartTime.ToUniversalTime().Ticks; }
            catch (Exception) { return null; }
        }

        /// <summary>The wall-clock time a start mark stands for (for display; the mark itself is what identifies).</summary>
        public static DateTime? StartTimeOf(long mark)
        {
            if (!OperatingSystem.IsLinux()) return mark > 0 ? new DateTime(mark, DateTimeKind.Utc) : null;
            try
            {
                foreach (var line in File.ReadLines("/proc/stat"))
                    if (line.StartsWith("btime ", StringComparison.Ordinal))
                    {
                        var boot = DateTimeOffset.FromUnixTimeSeconds(long.Parse(line.Substring(6), CultureInfo.InvariantCulture)).UtcDateTime;
                        long hz = sysconf(2); // _SC_CLK_TCK
                        return boot.AddSeconds((double)mark / (hz > 0 ? hz : 100));
                    }
            }
            catch (Exception) { }
            return null;
        }

        /// <summary>True when <paramref name="pid"/> is still the process that had <paramref name="startMark"/>.</summary>
        public static bool IsAlive(int pid, long startMark) => StartMark(pid) is long now && now == startMark;

        /// <summary>
        /// Sends SIGTERM to the process only if it is still the one with that start mark. On Linux it first takes a
        /// pidfd (which stays bound to that one process), then checks the mark, then signals through the pidfd, so a
        /// pid recycled in between is never signalled. False when the process is gone or is another one.
        /// </summary>
        public static bool Terminate(int pid, long startMark)
        {
            if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("Stopping a mirror service in another process needs POSIX signals.");
            if (OperatingSystem.IsLinux())
            {
                long fd = syscall(SYS_pidfd_open, pid, 0);
                if (fd >= 0)
                {
                    try
                    {
                        if (!IsAlive(pid, startMark)) return false;
                        if (syscall(SYS_pidfd_send_signal, fd, SIGTERM, 0, 0) == 0) return true;
                        var err = Marshal.GetLastWin32Error();
                        if (err == ESRCH) return false;
                        throw new System.ComponentModel.Win32Exception(err, $"Cannot signal process {pid}: {new System.ComponentModel.Win32Exception(err).Message}");
                    }
                    finally { close((int)fd); }
                }
                var openErr = Marshal.GetLastWin32Error();
                if (openErr == ESRCH) return false;
                if (openErr != ENOSYS) throw new System.ComponentModel.Win32Exception(openErr, $"Cannot open process {pid}: {new System.ComponentModel.Win32Exception(openErr).Message}");
            }
            // Kernels without pidfds: check, then signal (a recycle in that instant is the remaining risk).
            if (!IsAlive(pid, startMark)) return false;
            if (kill(pid, SIGTERM) == 0) return true;
            var e = Marshal.GetLastWin32Error();
            if (e == ESRCH) return false;
            throw new System.ComponentModel.Win32Exception(e, $"Cannot signal process {pid}: {new System.ComponentModel.Win32Exception(e).Message}");
        }
    }
}
