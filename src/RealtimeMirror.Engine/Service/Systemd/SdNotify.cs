using System;
using System.Net.Sockets;
using System.Text;

namespace RealtimeMirror.Engine.Service.Systemd
{
    /// <summary>
    /// systemd's sd_notify, without libsystemd: one datagram ("READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1")
    /// to the unix socket in $NOTIFY_SOCKET. An address starting with '@' is in the abstract namespace (a leading NUL).
    /// Outside systemd (no NOTIFY_SOCKET) every call does nothing. Never throws: a lost notification must not stop
    /// mirroring (systemd's own timeouts then say what went wrong).
    /// </summary>
    public sealed class SdNotify : IDisposable
    {
        private readonly object _gate = new object();
        private readonly Socket _socket;
        private readonly UnixDomainSocketEndPoint _endPoint;

        private SdNotify(string address)
        {
            Address = address;
            _endPoint = new UnixDomainSocketEndPoint(address.StartsWith("@", StringComparison.Ordinal) ? "\0" + address.Substring(1) : address);
            _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { SendTimeout = 1000 };
        }

        public string Address { get; }

        /// <summary>Send failures so far (shown by tests and the verbose stream).</summary>
        public int Failures { get; private set; }

        /// <summary>From $NOTIFY_SOCKET; null when not run by systemd with Type=notify.</summary>
        public static SdNotify FromEnvironment()
        {
            var address = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
            if (string.IsNullOrEmpty(address) || !OperatingSystem.IsLinux()) return null;
            try { return new SdNotify(address); }
            catch (Exception) { return null; }
        }

        /// <summary>
        /// Half of $WATCHDOG_USEC (systemd's advice for the ping interval), or null when no watchdog is asked for or
        /// it is meant for another process ($WATCHDOG_PID).
        /// </summary>
        public static TimeSpan? WatchdogInterval()
        {
            var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
            if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString()) return null;
            if (!long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), out var usec) || usec <= 0) return null;
            return TimeSpan.FromTicks(usec * 10 / 2);
        }

        public void Ready() => Send("READY=1");
        public void Watchdog() => Send("WATCHDOG=1");
        public void Stopping() => Send("STOPPING=1");
        /// <summary>One line: systemd shows it in `systemctl status`.</summary>
        public void Status(string line) => Send("STATUS=" + line.Replace('\n', ' '));

        public void Send(string state)
        {
            lock (_gate)
            {
                try { _socket.SendTo(Encoding.UTF8.GetBytes(state), _endPoint); }
                catch (Exception) { Failures++; }
            }
        }

        public void Dispose()
        {
            lock (_gate) _socket.Dispose();
        }
    }
}
