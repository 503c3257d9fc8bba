using System;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Service.Logging
{
    /// <summary>
    /// Sends records to the systemd journal in its native protocol: one datagram per record on the journal's unix
    /// socket, with structured fields (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=realtimemirror, RTM_TARGET, RTM_PATH,
    /// RTM_ACTION, RTM_BYTES), so `journalctl RTM_TARGET=backup` finds one target's lines. Paths go as their exact
    /// bytes (the protocol's length-prefixed form carries any byte). A datagram the journal does not take within
    /// 250 ms is dropped and counted: a stalled journald must not stall mirroring.
    /// </summary>
    public sealed class JournalLog : IMirrorLog
    {
        public const string DefaultSocket = "/run/systemd/journal/socket";
        /// <summary>Points the sink at another socket (the tests bind one); also turns it on outside systemd.</summary>
        public const string SocketVariable = "REALTIMEMIRROR_JOURNAL_SOCKET";
        public const string Identifier = "realtimemirror";

        private static readonly byte[] Newline = { (byte)'\n' };
        private readonly object _gate = new object();
        private readonly Socket _socket;
        private readonly UnixDomainSocketEndPoint _endPoint;
        private long _dropped;
        private bool _disposed;

        public JournalLog(string socketPath)
        {
            SocketPath = socketPath;
            _endPoint = new UnixDomainSocketEndPoint(socketPath);
            _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { SendTimeout = 250 };
        }

        public string SocketPath { get; }
        /// <summary>Records the journal did not take.</summary>
        public long Dropped => Interlocked.Read(ref _dropped);

        /// <summary>
        /// The journal socket to log to, or null: the variable's socket when set; else the journal's own when we run
        /// under systemd (JOURNAL_STREAM set: our output already goes to the journal; or INVOCATION_ID set and the
        /// journal socket exists).
        /// </summary>
        public static string Detect()
        {
            var injected = Environment.GetEnvironmentVariable(SocketVariable);
            if (!string.IsNullOrEmpty(injected)) return injected;
            if (!OperatingSystem.IsLinux()) return null;
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"))) return DefaultSocket;
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("INVOCATION_ID")) && File.Exists(DefaultSocket)) return DefaultSocket;
            return null;
        }

        public void Write(LogRecord r)
        {
            byte[] datagram;
            try { datagram = Encode(r); }
            catch (Exception) { Interlocked.Increment(ref _dropped); return; }
            lock (_gate)
            {
                if (_disposed) return;
                try { _socket.SendTo(datagram, _endPoint); }
                catch (Exception) { Interlocked.Increment(ref _dropped); } // no journal, full queue, too big: dropped, counted
            }
        }

        /// <summary>The native protocol: NAME=value lines; a value with a newline as NAME, a 64-bit LE length, the bytes.</summary>
        internal static byte[] Encode(LogRecord r)
        {
            using var ms = new MemoryStream(256);
            Field(ms, "MESSAGE", Encoding.UTF8.GetBytes(Message(r)));
            Field(ms, "PRIORITY", Ascii(((int)r.Level).ToString()));
            Field(ms, "SYSLOG_IDENTIFIER", Ascii(Identifier));
            if (r.Target.Length > 0) Field(ms, "RTM_TARGET", Encoding.UTF8.GetBytes(r.Target));
            if (r.Path.Length > 0) Field(ms, "RTM_PATH", PathEncoding.ToBytes(r.Path));
            if (r.OldPath != null) Field(ms, "RTM_OLD_PATH", PathEncoding.ToBytes(r.OldPath));
            if (r.Action.Length > 0) Field(ms, "RTM_ACTION", Ascii(r.Action));
            if (r.Bytes.HasValue) Field(ms, "RTM_BYTES", Ascii(r.Bytes.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return ms.ToArray();
        }

        /// <summary>What `journalctl` shows: "backup: Copied dir/a.txt (4096 B)", or the message of an error.</summary>
        internal static string Message(LogRecord r)
        {
            var sb = new StringBuilder();
            if (r.Target.Length > 0) sb.Append(r.Target).Append(": ");
            if (r.Action.Length > 0 && r.Level != MirrorLogLevel.Error) sb.Append(r.Action).Append(' ');
            if (r.Path.Length > 0) sb.Append(LogLine.Quote(r.Path));
            if (r.OldPath != null) sb.Append(" (from ").Append(LogLine.Quote(r.OldPath)).Append(')');
            if (r.Bytes.HasValue) sb.Append(" (").Append(r.Bytes.Value).Append(" B)");
            if (r.Message.Length > 0) sb.Append(r.Path.Length > 0 ? ": " : "").Append(r.Message);
            return sb.ToString().Trim();
        }

        private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

        private static void Field(Stream s, string name, byte[] value)
        {
            var n = Encoding.ASCII.GetBytes(name);
            s.Write(n, 0, n.Length);
            if (Array.IndexOf(value, (byte)'\n') < 0)
            {
                s.WriteByte((byte)'=');
                s.Write(value, 0, value.Length);
            }
            else
            {
                s.Write(Newline, 0, 1);
                var len = BitConverter.GetBytes((ulong)value.Length);
                if (!BitConverter.IsLittleEndian) Array.Reverse(len);
                s.Write(len, 0, 8);
                s.Write(value, 0, value.Length);
            }
            s.Write(Newline, 0, 1);
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                _socket.Dispose();
            }
        }
    }
}
