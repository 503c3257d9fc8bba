using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using RealtimeMirror.Engine.Paths;
using System.Threading;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// Reads what the server sends. Its first 8 bytes (version, checksum seed) come raw; after that every
    /// byte comes in frames with a 4-byte little-endian header ((7 + code) &lt;&lt; 24 | length): code 0 is
    /// data, others are log messages. A background thread unwraps the frames, because rsync writes while
    /// it reads: a sender that only reads when it wants data can deadlock with it.
    /// </summary>
    internal sealed class ServerInput : IDisposable
    {
        private readonly Stream _raw;
        private readonly BlockingCollection<byte[]> _data = new BlockingCollection<byte[]>(new ConcurrentQueue<byte[]>(), 1024);
        private readonly List<string> _messages = new List<string>();
        private readonly CancellationToken _cancel;
        private Thread _reader;
        private byte[] _current = Array.Empty<byte>();
        private int _pos;
        private Exception _readError;

        /// <summary>A hostile or broken server must not grow our memory without bound through log lines.</summary>
        private const int MaxMessages = 1000;

        public ServerInput(Stream raw, CancellationToken cancel) { _raw = raw; _cancel = cancel; }

        public long BytesReceived;

        public IReadOnlyList<string> Messages { get { lock (_messages) return _messages.ToArray(); } }

        /// <summary>Raw int32 before multiplexing starts.</summary>
        public int ReadRawInt()
        {
            var b = new byte[4];
            ReadExactly(_raw, b, 4);
            BytesReceived += 4;
            return BitConverter.ToInt32(b, 0);
        }

        /// <summary>
        /// The server's protocol version, the first thing it sends. A login shell whose startup files print text
        /// (a banner, "Welcome...") puts that text here instead; read as a number it would be nonsense and the
        /// session would fail much later with a baffling error, so it is recognized and named.
        /// </summary>
        public int ReadProtocolVersion(string serverName)
        {
            var b = new byte[4];
            ReadExactly(_raw, b, 4);
            BytesReceived += 4;
            int v = BitConverter.ToInt32(b, 0);
            if (v >= 20 && v <= 99) return v;
            var text = b.Concat(ReadSomeMore(_raw, 76)).ToArray();
            int nl = Array.IndexOf(text, (byte)'\n');
            var shown = PathEncoding.FromBytes(text, 0, nl >= 0 ? nl : text.Length).TrimEnd('\r');
            throw new InvalidDataException($"The login shell on {serverName} printed text before rsync started (\"{Printable(shown)}\"): " +
                "make the shell's startup files quiet for non-interactive sessions.");
        }

        /// <summary>Up to <paramref name="max"/> more bytes, to a newline, for at most a second: only to quote the noise.</summary>
        private static byte[] ReadSomeMore(Stream s, int max)
        {
            var got = new List<byte>();
            var reading = System.Threading.Tasks.Task.Run(() =>
            {
                var one = new byte[1];
                while (got.Count < max && s.Read(one, 0, 1) == 1)
                {
                    lock (got) got.Add(one[0]);
                    if (one[0] == (byte)'\n') break;
                }
            });
            try { reading.Wait(TimeSpan.FromSeconds(1)); } catch (AggregateException) { }
            lock (got) return got.ToArray();
        }

        private static string Printable(string s) => new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());

        public void StartDemultiplexing()
        {
            _reader = new Thread(Demultiplex) { IsBackground = true, Name = "rsync server reader" };
            _reader.Start();
        }

        private void Demultiplex()
        {
            var header = new byte[4];
            try
            {
                while (true)
                {
                    if (!TryReadExactly(_raw, header, 4)) break;
                    uint h = BitConverter.ToUInt32(header, 0);
                    int code = (int)(h >> 24) - 7;
                    int length = (int)(h & 0xFFFFFF);
                    var payload = new byte[length];
                    if (length > 0) ReadExactly(_raw, payload, length);
                    BytesReceived += 4 + length;
                    if (code == 0) _data.Add(payload, _cancel);
                    else lock (_messages)
                    {
                        // Messages name files: their bytes are names, in the one path encoding.
                        if (_messages.Count < MaxMessages) _messages.Add(PathEncoding.FromBytes(payload).TrimEnd('\n'));
                    }
                }
            }
            catch (Exception e) when (!(e is OperationCanceledException)) { _readError = e; }
            catch (OperationCanceledException) { }
            finally { _data.CompleteAdding(); }
        }

        private readonly byte[] _int = new byte[4];

        public int ReadInt()
        {
            Read(_int, 0, 4);
            return BitConverter.ToInt32(_int, 0);
        }

        /// <summary>
        /// Called before a read has to wait for the server. The sender flushes its output there and nowhere else
        /// in the file loop: the receiver asks for many files ahead, so replies go out in full SSH packets, and
        /// the server is never left waiting for bytes still in our buffer.
        /// </summary>
        public Action BeforeWait { get; set; }

        public void Read(byte[] buffer, int offset, int count)
        {
            while (count > 0)
            {
                if (_pos == _current.Length)
                {
                    if (_data.TryTake(out _current)) { _pos = 0; continue; }
                    BeforeWait?.Invoke();
                    if (!_data.TryTake(out _current, Timeout.Infinite, _cancel))
                        throw new EndOfStreamException("The rsync server closed the connection" +
                            (_readError != null ? $" ({_readError.Message})" : "") + Describe());
                    _pos = 0;
                }
                int n = Math.Min(count, _current.Length - _pos);
                Buffer.BlockCopy(_current, _pos, buffer, offset, n);
                _pos += n; offset += n; count -= n;
            }
        }

        private string Describe()
        {
            var m = Messages;
            return m.Count == 0 ? "." : ": " + string.Join(" | ", m);
        }

        public void WaitForEnd(TimeSpan timeout) => _reader?.Join(timeout);

        private static void ReadExactly(Stream s, byte[] b, int n)
        {
            if (!TryReadExactly(s, b, n)) throw new EndOfStreamException("The rsync server closed the connection.");
        }

        private static bool TryReadExactly(Stream s, byte[] b, int n)
        {
            int got = 0;
            while (got < n)
            {
                int r = s.Read(b, got, n - got);
                if (r <= 0)
                {
                    if (got == 0) return false;
                    throw new EndOfStreamException("The rsync server closed the connection mid-message.");
                }
                got += r;
            }
            return true;
        }

        public void Dispose() => _data.Dispose();
    }
}
