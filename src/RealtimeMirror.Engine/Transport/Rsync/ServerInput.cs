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
    /// data, others are messages, each held to <see cref="ServerMessageRules"/>. A background thread unwraps the frames, because rsync writes while
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

        /// <summary>rsync's varint before multiplexing starts (the server's compat flags).</summary>
        public int ReadRawVarint()
        {
            var one = new byte[1];
            return (int)DecodeVar(() => { ReadExactly(_raw, one, 1); BytesReceived++; return one[0]; }, 1, 4, "compat flags");
        }

        /// <summary>rsync's vstring before multiplexing starts, at most <paramref name="max"/> bytes.</summary>
        public byte[] ReadRawVString(int max, string what)
        {
            var one = new byte[1];
            ReadExactly(_raw, one, 1);
            int len = one[0];
            if ((len & 0x80) != 0) { ReadExactly(_raw, one, 1); len = (len & 0x7F) * 0x100 + one[0]; BytesReceived++; }
            if (len > max) throw new InvalidDataException($"The rsync server sent a {what} of {len} bytes (at most {max} expected).");
            var b = new byte[len];
            if (len > 0) ReadExactly(_raw, b, len);
            BytesReceived += 1 + len;
            return b;
        }

        private static readonly byte[] ExtraBytes = BuildExtraBytes();

        private static byte[] BuildExtraBytes()
        {
            // How many bytes follow a varint's lead byte, by its high bits: 10xxxxxx 1, 110xxxxx 2, 1110xxxx 3...
            var t = new byte[256];
            for (int b = 0; b < 256; b++) { int n = 0; while (n < 8 && (b & (0x80 >> n)) != 0) n++; t[b] = (byte)Math.Min(n, 6); }
            return t;
        }

        /// <summary>Decodes rsync's varint (width 4, min 1) or varlong (width 8, min 3 or 4). Anything wider than the
        /// width is refused: the server may be hostile.</summary>
        private static long DecodeVar(Func<byte> next, int minBytes, int width, string what)
        {
            Span<byte> u = stackalloc byte[9];
            u.Clear();
            byte lead = next();
            for (int i = 0; i < minBytes - 1; i++) u[i] = next();
            int extra = ExtraBytes[lead];
            if (minBytes + extra > width + 1 || (width == 4 && extra >= 5)) throw new InvalidDataException($"Overlong number in the rsync server's {what}.");
            if (extra > 0)
            {
                for (int i = 0; i < extra; i++) u[minBytes - 1 + i] = next();
                int bit = 1 << (8 - extra);
                u[minBytes - 1 + extra] = (byte)(lead & (bit - 1));
            }
            else u[minBytes - 1] = lead;
            if (width == 4) return BitConverter.ToInt32(u.Slice(0, 4));
            if (u[8] != 0) throw new InvalidDataException($"Overlong number in the rsync server's {what}.");
            return BitConverter.ToInt64(u.Slice(0, 8));
        }

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
                    BytesReceived += 4;
                    ServerMessageRules.Check(code, length); // before anything is read or allocated for it
                    if (code == ServerMessageRules.MsgData) { ReadData(length); continue; }
                    var payload = new byte[length];
                    if (length > 0) ReadExactly(_raw, payload, length);
                    BytesReceived += length;
                    if (!Handle(code, payload)) break;
                }
            }
            catch (InvalidDataException e)
            {
                Violation = e;
                try { OnViolation?.Invoke(); } catch (Exception) { /* closing a stream that is already gone */ }
            }
            catch (Exception e) when (!(e is OperationCanceledException)) { _readError = e; }
            catch (OperationCanceledException) { }
            finally { _data.CompleteAdding(); }
        }

        /// <summary>One data frame, queued in pieces of at most <see cref="ServerMessageRules.MaxDataPiece"/> bytes.</summary>
        private void ReadData(int length)
        {
            while (length > 0)
            {
                var piece = new byte[Math.Min(length, ServerMessageRules.MaxDataPiece)];
                ReadExactly(_raw, piece, piece.Length);
                BytesReceived += piece.Length;
                _data.Add(piece, _cancel);
                length -= piece.Length;
            }
        }

        /// <summary>Acts on one message whose length is already checked; false when the server is going away.</summary>
        private bool Handle(int code, byte[] payload)
        {
            switch (code)
            {
                case ServerMessageRules.MsgSuccess: Confirm(BitConverter.ToInt32(payload, 0)); return true;
                case ServerMessageRules.MsgErrorExit:
                    AddMessage(payload.Length == 4 ? $"rsync server: exiting with code {BitConverter.ToInt32(payload, 0)}" : "rsync server: exiting on error");
                    ServerErrorExit = true;
                    return false; // it is going away: what follows is not ours to wait for
                case ServerMessageRules.MsgErrorXfer:
                case ServerMessageRules.MsgInfo:
                case ServerMessageRules.MsgError:
                case ServerMessageRules.MsgWarning:
                    AddMessage(PathEncoding.FromBytes(payload).TrimEnd('\n'));
                    return true;
                default:
                    // Keep-alives, the receiver's own io_error (it shows in its exit code), its timeout, deletions it
                    // logs, a MSG_NO_SEND passed on: nothing for a sender to act on.
                    return true;
            }
        }

        public const int MsgErrorExit = ServerMessageRules.MsgErrorExit;

        /// <summary>
        /// The server broke the protocol (a message it may not send, an index it may not name): the reader stopped, and
        /// every read after the data already queued throws this. Null while all is well.
        /// </summary>
        public InvalidDataException Violation { get => _violation; private set => _violation = value; }
        private volatile InvalidDataException _violation; // set by the reader thread, read by the sender's

        /// <summary>Runs on the reader thread when <see cref="Violation"/> is set: the sender closes its output there, so
        /// a write blocked on a server that no longer reads returns too.</summary>
        public Action OnViolation { get; set; }

        // Entries of the file list the receiver confirmed (MSG_SUCCESS). Sized by our own list, so a hostile server's
        // confirmations cost no memory; an index outside it, or one confirmed twice, breaks the protocol.
        private bool[] _confirmed = Array.Empty<bool>();

        /// <summary>Set before the file list goes out: how many entries confirmations may name.</summary>
        public void ExpectConfirmations(int listCount) { lock (_messages) _confirmed = new bool[listCount]; }

        private void Confirm(int ndx)
        {
            lock (_messages)
            {
                if (ndx < 0 || ndx >= _confirmed.Length)
                    throw new InvalidDataException($"The rsync server confirmed entry #{ndx}, but only {_confirmed.Length} were listed.");
                if (_confirmed[ndx]) throw new InvalidDataException($"The rsync server confirmed entry #{ndx} twice.");
                _confirmed[ndx] = true;
            }
        }

        public bool IsConfirmed(int ndx) { lock (_messages) return ndx >= 0 && ndx < _confirmed.Length && _confirmed[ndx]; }

        /// <summary>The server announced it is exiting on an error (MSG_ERROR_EXIT).</summary>
        public volatile bool ServerErrorExit;

        private void AddMessage(string text)
        {
            // Messages name files: their bytes are names, in the one path encoding.
            lock (_messages) if (_messages.Count < MaxMessages) _messages.Add(text);
        }

        private readonly byte[] _int = new byte[4];
        private readonly byte[] _one = new byte[1];

        public byte ReadByte()
        {
            Read(_one, 0, 1);
            return _one[0];
        }

        public int ReadShort()
        {
            Read(_int, 0, 2);
            return _int[0] | (_int[1] << 8);
        }

        public int ReadVarint(string what) => (int)DecodeVar(ReadByte, 1, 4, what);

        public long ReadVarlong(int minBytes, string what) => DecodeVar(ReadByte, minBytes, 8, what);

        /// <summary>rsync's vstring (data stream), at most <paramref name="max"/> bytes.</summary>
        public byte[] ReadVString(int max, string what)
        {
            int len = ReadByte();
            if ((len & 0x80) != 0) len = (len & 0x7F) * 0x100 + ReadByte();
            if (len > max) throw new InvalidDataException($"The rsync server sent a {what} of {len} bytes (at most {max} expected).");
            var b = new byte[len];
            if (len > 0) Read(b, 0, len);
            return b;
        }

        private int _prevPositive = -1, _prevNegative = 1;

        /// <summary>A file-list index: int32 below protocol 30, rsync's read_ndx scheme from 30 on (-1 is NDX_DONE).</summary>
        public int ReadNdx(int protocol)
        {
            if (protocol < 30) return ReadInt();
            byte b = ReadByte();
            bool negative = false;
            if (b == 0xFF) { negative = true; b = ReadByte(); }
            else if (b == 0) return -1;
            ref int prev = ref negative ? ref _prevNegative : ref _prevPositive;
            long num;
            if (b == 0xFE)
            {
                byte b0 = ReadByte(), b1 = ReadByte();
                if ((b0 & 0x80) != 0)
                {
                    byte b2 = ReadByte(), b3 = ReadByte();
                    num = (long)b1 | ((long)b2 << 8) | ((long)b3 << 16) | ((long)(b0 & 0x7F) << 24);
                }
                else num = (b0 << 8) + b1 + (long)prev;
            }
            else num = b + (long)prev;
            if (num < 0 || num > int.MaxValue) throw new InvalidDataException($"The rsync server sent an invalid file index ({num}).");
            prev = (int)num;
            return negative ? -(int)num : (int)num;
        }

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
                    {
                        _current = Array.Empty<byte>();
                        if (Violation != null) throw new InvalidDataException(Violation.Message, Violation);
                        throw new EndOfStreamException("The rsync server closed the connection" +
                            (_readError != null ? $" ({_readError.Message})" : "") + Describe());
                    }
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
