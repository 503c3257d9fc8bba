using System;
using System.IO;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>A forward-only read stream over an open SFTP file handle (closed with the stream).</summary>
    internal sealed class SftpReadStream : Stream
    {
        private const uint Chunk = 64 * 1024;
        private readonly RawSftpRequests _raw;
        private byte[] _handle;
        private ulong _offset;

        public SftpReadStream(RawSftpRequests raw, byte[] handle, long length)
        {
            _raw = raw;
            _handle = handle;
            Length = length;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length { get; }
        public override long Position { get => (long)_offset; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_handle == null) throw new ObjectDisposedException(nameof(SftpReadStream));
            if (count == 0) return 0;
            var data = _raw.Read(_handle, _offset, (uint)Math.Min(count, (int)Chunk));
            if (data == null || data.Length == 0) return 0;
            Buffer.BlockCopy(data, 0, buffer, offset, data.Length);
            _offset += (ulong)data.Length;
            return data.Length;
        }

        protected override void Dispose(bool disposing)
        {
            var h = _handle;
            _handle = null;
            if (h != null) try { _raw.Close(h); } catch (Exception) { /* the connection is gone: nothing to close */ }
            base.Dispose(disposing);
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
