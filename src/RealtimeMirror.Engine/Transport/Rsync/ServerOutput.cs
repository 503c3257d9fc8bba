using System;
using System.IO;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// What we send the server: little-endian ints, rsync's variable-length ints and raw bytes, buffered. Below
    /// protocol 30 this direction is a plain byte stream; from 30 on it is multiplexed like the other one (data in
    /// MSG_DATA frames, and messages such as MSG_NO_SEND between them), switched on by <see cref="StartMultiplexing"/>.
    /// </summary>
    internal sealed class ServerOutput
    {
        private const int MplexBase = 7;
        private readonly Stream _raw;
        private readonly byte[] _buf = new byte[64 * 1024];
        private int _len;
        private bool _multiplexed;

        public ServerOutput(Stream raw) { _raw = raw; }

        public long BytesSent;

        public void StartMultiplexing() { FlushBuffer(); _multiplexed = true; }

        public void WriteInt(int v)
        {
            if (_buf.Length - _len < 4) FlushBuffer();
            _buf[_len++] = (byte)v; _buf[_len++] = (byte)(v >> 8); _buf[_len++] = (byte)(v >> 16); _buf[_len++] = (byte)(v >> 24);
            BytesSent += 4;
        }

        public void WriteShort(int v) { WriteByte((byte)v); WriteByte((byte)(v >> 8)); }

        /// <summary>rsync's write_longint below protocol 30: an int32, or -1 followed by the 64-bit value.</summary>
        public void WriteLong(long v)
        {
            if (v >= 0 && v <= int.MaxValue) { WriteInt((int)v); return; }
            WriteInt(-1);
            WriteInt((int)(v & 0xFFFFFFFF));
            WriteInt((int)(v >> 32));
        }

        /// <summary>
        /// rsync's varint: the value's little-endian bytes without high zero bytes, after a lead byte whose high bits
        /// count the bytes that follow (and whose low bits carry the top byte when it fits there).
        /// </summary>
        public void WriteVarint(int v) => WriteVar(unchecked((uint)v), 4, 1);

        /// <summary>rsync's varlong with <paramref name="minBytes"/> bytes always sent (3 for sizes, 4 for times).</summary>
        public void WriteVarlong(long v, int minBytes) => WriteVar(unchecked((ulong)v), 8, minBytes);

        private void WriteVar(ulong v, int width, int minBytes)
        {
            Span<byte> b = stackalloc byte[10];
            for (int i = 0; i < width; i++) b[1 + i] = (byte)(v >> (8 * i));
            int cnt = width;
            while (cnt > minBytes && b[cnt] == 0) cnt--;
            int bit = 1 << (7 - cnt + minBytes);
            if (b[cnt] >= bit) { cnt++; b[0] = (byte)~(bit - 1); }
            else if (cnt > minBytes) b[0] = (byte)(b[cnt] | ~(bit * 2 - 1));
            else b[0] = b[cnt];
            for (int i = 0; i < cnt; i++) WriteByte(b[i]);
        }

        /// <summary>rsync's vstring: one length byte (two when over 127, at most 32767) then the bytes.</summary>
        public void WriteVString(byte[] s)
        {
            if (s.Length > 0x7FFF) throw new ArgumentException("vstring too long");
            if (s.Length > 0x7F) WriteByte((byte)(s.Length / 0x100 + 0x80));
            WriteByte((byte)s.Length);
            Write(s, 0, s.Length);
        }

        private int _prevPositive = -1, _prevNegative = 1;

        /// <summary>A file-list index: an int32 below protocol 30, from 30 on rsync's write_ndx (the difference from the
        /// previous index of the same sign in one byte when it is 1-253, NDX_DONE as a single 0).</summary>
        public void WriteNdx(int ndx, int protocol)
        {
            if (protocol < 30) { WriteInt(ndx); return; }
            if (ndx == -1) { WriteByte(0); return; }
            int diff;
            if (ndx >= 0) { diff = ndx - _prevPositive; _prevPositive = ndx; }
            else { WriteByte(0xFF); ndx = -ndx; diff = ndx - _prevNegative; _prevNegative = ndx; }
            if (diff > 0 && diff < 0xFE) WriteByte((byte)diff);
            else if (diff < 0 || diff > 0x7FFF)
            {
                WriteByte(0xFE);
                WriteByte((byte)((ndx >> 24) | 0x80)); WriteByte((byte)ndx); WriteByte((byte)(ndx >> 8)); WriteByte((byte)(ndx >> 16));
            }
            else { WriteByte(0xFE); WriteByte((byte)(diff >> 8)); WriteByte((byte)diff); }
        }

        public void WriteByte(byte b)
        {
            if (_len == _buf.Length) FlushBuffer();
            _buf[_len++] = b;
            BytesSent++;
        }

        public void Write(byte[] b, int offset, int count)
        {
            BytesSent += count;
            while (count > 0)
            {
                if (_len == _buf.Length) FlushBuffer();
                int n = Math.Min(count, _buf.Length - _len);
                Buffer.BlockCopy(b, offset, _buf, _len, n);
                _len += n; offset += n; count -= n;
            }
        }

        /// <summary>int32 length then the bytes of a name in the project's <see cref="PathEncoding"/> (exact, not UTF-8: an
        /// escaped byte goes out as that byte).</summary>
        public void WriteName(string s) => WriteBytes(PathEncoding.ToBytes(s));

        /// <summary>int32 length then the bytes.</summary>
        public void WriteBytes(byte[] b)
        {
            WriteInt(b.Length);
            Write(b, 0, b.Length);
        }

        /// <summary>A multiplexed message (protocol 30+), after the data written so far.</summary>
        public void SendMessage(int code, byte[] payload)
        {
            if (!_multiplexed) throw new InvalidOperationException("Messages need a multiplexed stream (protocol 30 or later).");
            FlushBuffer();
            WriteHeader(code, payload.Length);
            _raw.Write(payload, 0, payload.Length);
            BytesSent += 4;
        }

        private void WriteHeader(int code, int length)
        {
            uint h = ((uint)(MplexBase + code) << 24) | (uint)length;
            Span<byte> hb = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(hb, h);
            _raw.Write(hb);
        }

        private void FlushBuffer()
        {
            if (_len == 0) return;
            if (_multiplexed) { WriteHeader(0, _len); BytesSent += 4; }
            _raw.Write(_buf, 0, _len);
            _len = 0;
        }

        public void Flush() { FlushBuffer(); _raw.Flush(); }
    }
}
