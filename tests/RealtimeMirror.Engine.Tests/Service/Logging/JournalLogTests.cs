using System;
using System.IO;
using System.Net.Sockets;
using System.Text;
using RealtimeMirror.Engine.Service.Logging;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Service.Logging
{
    /// <summary>The journal's native protocol, read back by a socket standing in for journald.</summary>
    public class JournalLogTests
    {
        [Fact]
        public void Fields_are_plain_lines_and_a_value_with_a_newline_is_length_prefixed()
        {
            var r = new LogRecord(MirrorLogLevel.Info, "backup", "dir/a\nb.txt", "Copied", null, 42);
            var bytes = JournalLog.Encode(r);
            var text = Encoding.UTF8.GetString(bytes);
            Assert.Contains("PRIORITY=6\n", text);
            Assert.Contains("SYSLOG_IDENTIFIER=realtimemirror\n", text);
            Assert.Contains("RTM_TARGET=backup\n", text);
            Assert.Contains("RTM_ACTION=Copied\n", text);
            Assert.Contains("RTM_BYTES=42\n", text);
            Assert.Contains("MESSAGE=backup: Copied \"dir/a\\nb.txt\" (42 B)\n", text);
            var at = text.IndexOf("RTM_PATH\n", StringComparison.Ordinal);
            Assert.True(at >= 0);
            var start = Encoding.UTF8.GetByteCount(text.Substring(0, at)) + "RTM_PATH\n".Length;
            Assert.Equal(11UL, BitConverter.ToUInt64(bytes, start));
            Assert.Equal("dir/a\nb.txt", Encoding.UTF8.GetString(bytes, start + 8, 11));
            Assert.Equal((byte)'\n', bytes[start + 8 + 11]);
        }

        [Fact]
        public void An_undecodable_name_goes_as_its_bytes_and_errors_have_priority_3()
        {
            var r = new LogRecord(MirrorLogLevel.Error, "backup", "caf\uDCE9", "Error", "Permission denied");
            var bytes = JournalLog.Encode(r);
            var needle = new byte[] { (byte)'R', (byte)'T', (byte)'M', (byte)'_', (byte)'P', (byte)'A', (byte)'T', (byte)'H', (byte)'=', (byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'\n' };
            Assert.True(IndexOf(bytes, needle) >= 0);
            Assert.Contains("PRIORITY=3\n", Encoding.UTF8.GetString(bytes));
        }

        [Fact]
        public void Datagrams_reach_the_socket_and_a_missing_socket_is_counted_not_thrown()
        {
            var path = Path.Combine(Path.GetTempPath(), "rtm-journal-" + Guid.NewGuid().ToString("N").Substring(0, 8) + ".sock");
            using (var server = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified))
            {
                server.Bind(new UnixDomainSocketEndPoint(path));
                server.ReceiveTimeout = 2000;
                using var log = new JournalLog(path);
                log.Write(new LogRecord(MirrorLogLevel.Info, "t", "p", "Deleted", null));
                var buffer = new byte[4096];
                int n = server.Receive(buffer);
                Assert.Contains("RTM_ACTION=Deleted\n", Encoding.UTF8.GetString(buffer, 0, n));
            }
            File.Delete(path);
            using var orphan = new JournalLog(path);
            orphan.Write(new LogRecord(MirrorLogLevel.Info, "t", "p", "Deleted", null));
            Assert.Equal(1, orphan.Dropped);
        }

        private static int IndexOf(byte[] hay, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= hay.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && hay[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }
    }
}
