using System;
using System.IO;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>What we send the server: little-endian ints and raw bytes, buffered (protocol 27 does not multiplex this direction).</summary>
    internal sealed class ServerOutput
    {
        private readonly BufferedStream _out;

        public ServerOutput(Stream raw) { _out = new BufferedStream(raw, 64 * 1024); }

        public long BytesSent;

        public void WriteInt(int v)
        {
            _out.WriteByte((byte)v); _out.WriteByte((byte)(v >> 8)); _out.WriteByte((byte)(v >> 16)); _out.WriteByte((byte)(v >> 24));
            BytesSent += 4;
        }

        /// <summary>rsync's write_longint below protocol 30: an int32, or -1 followed by the 64-bit value.</summary>
        public void WriteLong(long v)
        {
            if (v >= 0 && v <= int.MaxValue) { WriteInt((int)v); return; }
            WriteInt(-1);
            WriteInt((int)(v & 0xFFFFFFFF));
            WriteInt((int)(v >> 32));
        }

        public void WriteByte(byte b) { _out.WriteByte(b); BytesSent++; }

        public void Write(byte[] b, int offset, int count) { _out.Write(b, offset, count); BytesSent += count; }

        /// <summary>int32 length then the bytes of a name in the project's <see cref="PathEncoding"/> (exact, not UTF-8: an
        /// escaped byte goes out as that byte).</summary>
        public void WriteName(string s) => WriteBytes(PathEncoding.ToBytes(s));

        /// <summary>int32 length then the bytes.</summary>
        public void WriteBytes(byte[] b)
        {
            WriteInt(b.Length);
            Write(b, 0, b.Length);
        }

        public void Flush() => _out.Flush();
    }
}
