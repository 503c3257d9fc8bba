using System;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// A target's bandwidth limit in KiB/s (like rsync --bwlimit): the mirror must not take a busy server's uplink.
    /// A token bucket holding at most a quarter second of bytes; a transfer that runs ahead waits (cancellably) until
    /// its bytes are covered. One limiter per connection, shared by the transfers running on it.
    /// </summary>
    public sealed class BandwidthLimiter
    {
        private readonly double _bytesPerSecond;
        private readonly object _gate = new object();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private double _tokens;
        private double _last;

        public BandwidthLimiter(int kibPerSecond)
        {
            _bytesPerSecond = Math.Max(1, kibPerSecond) * 1024.0;
            _tokens = _bytesPerSecond / 4;
        }

        /// <summary>Null for no limit.</summary>
        public static BandwidthLimiter For(int kibPerSecond) => kibPerSecond > 0 ? new BandwidthLimiter(kibPerSecond) : null;

        /// <summary>Takes <paramref name="bytes"/> from the bucket, waiting while it is short.</summary>
        public void Take(int bytes, CancellationToken cancel)
        {
            TimeSpan wait;
            lock (_gate)
            {
                var now = _clock.Elapsed.TotalSeconds;
                _tokens = Math.Min(_bytesPerSecond / 4, _tokens + (now - _last) * _bytesPerSecond);
                _last = now;
                _tokens -= bytes;
                wait = _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _bytesPerSecond);
            }
            if (wait > TimeSpan.Zero && cancel.WaitHandle.WaitOne(wait)) cancel.ThrowIfCancellationRequested();
        }

        /// <summary>A stream whose reads and writes go at most at the limit; the stream itself when there is none.</summary>
        public static Stream Wrap(Stream inner, BandwidthLimiter limiter, CancellationToken cancel) =>
            limiter == null ? inner : new Limited(inner, limiter, cancel);

        private sealed class Limited : Stream
        {
            private readonly Stream _inner;
            private readonly BandwidthLimiter _limiter;
            private readonly CancellationToken _cancel;

            public Limited(Stream inner, BandwidthLimiter limiter, CancellationToken cancel)
            {
                _inner = inner;
                _limiter = limiter;
                _cancel = cancel;
            }

            public override int Read(byte[] buffer, int offset, int count)
            {
                int n = _inner.Read(buffer, offset, count);
                if (n > 0) _limiter.Take(n, _cancel);
                return n;
            }

            public override void Write(byte[] buffer, int offset, int count)
            {
                _limiter.Take(count, _cancel);
                _inner.Write(buffer, offset, count);
            }

            public override void Flush() => _inner.Flush();
            public override bool CanRead => _inner.CanRead;
            public override bool CanSeek => false;
            public override bool CanWrite => _inner.CanWrite;
            public override long Length => _inner.Length;
            public override long Position { get => _inner.Position; set => throw new NotSupportedException(); }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            protected override void Dispose(bool disposing)
            {
                if (disposing) _inner.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
