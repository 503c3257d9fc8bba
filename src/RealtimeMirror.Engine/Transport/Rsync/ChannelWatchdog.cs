using System;
using System.IO;
using System.Threading;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// Guards one rsync exec channel. Our sender blocks reading from the server (and, when the SSH window is full,
    /// writing to it); after a silent network drop or a frozen host neither ever returns. The watchdog fires when no
    /// byte has moved either way for the I/O timeout, or when the caller cancels (Ctrl+C, Stop): it cancels the
    /// sender's token and runs the abort action, which closes the channel and the connection, so every blocked call
    /// returns within moments. <see cref="Fired"/> tells the caller to report a lost connection (or a cancel) instead
    /// of whatever the torn-down streams threw.
    /// </summary>
    internal sealed class ChannelWatchdog : IDisposable
    {
        private readonly TimeSpan _timeout;
        private readonly CancellationTokenSource _abort;
        private readonly Action _closeChannel;
        private readonly Timer _timer;
        private readonly CancellationTokenRegistration _onCancel;
        private long _lastProgress = Environment.TickCount64;
        private int _fired;

        public ChannelWatchdog(TimeSpan timeout, CancellationToken cancel, Action closeChannel)
        {
            _timeout = timeout;
            _closeChannel = closeChannel;
            _abort = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var period = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds / 4, 50, 1000));
            _timer = new Timer(_ => Check(), null, period, period);
            _onCancel = cancel.Register(Fire);
        }

        /// <summary>Cancelled when the watchdog fires: hand this to the sender instead of the caller's token.</summary>
        public CancellationToken Token => _abort.Token;

        public bool Fired => Volatile.Read(ref _fired) != 0;

        public void Touch() => Volatile.Write(ref _lastProgress, Environment.TickCount64);

        private void Check()
        {
            if (Environment.TickCount64 - Volatile.Read(ref _lastProgress) > (long)_timeout.TotalMilliseconds) Fire();
        }

        private void Fire()
        {
            if (Interlocked.Exchange(ref _fired, 1) != 0) return;
            // On a timer or cancel thread: nothing may escape, and both steps are tried whatever the first does.
            // The connection goes first: the cancel runs the sender's callbacks, which close its streams, and closing a
            // stream sends EOF, which would block on a frozen host while the socket is still open.
            try { _closeChannel(); } catch (Exception) { }
            try { _abort.Cancel(); } catch (Exception) { }
        }

        /// <summary>The stream, touching the watchdog whenever a read or write starts or returns.</summary>
        public Stream Watch(Stream inner) => new WatchedStream(inner, this);

        public void Dispose()
        {
            _onCancel.Dispose();
            _timer.Dispose();
            _abort.Dispose();
        }

        private sealed class WatchedStream : Stream
        {
            private readonly Stream _inner;
            private readonly ChannelWatchdog _dog;

            public WatchedStream(Stream inner, ChannelWatchdog dog) { _inner = inner; _dog = dog; }

            public override int Read(byte[] buffer, int offset, int count)
            {
                _dog.Touch();
                int n = _inner.Read(buffer, offset, count);
                if (n > 0) _dog.Touch();
                return n;
            }

            public override void Write(byte[] buffer, int offset, int count)
            {
                _dog.Touch();
                _inner.Write(buffer, offset, count);
                _dog.Touch();
            }

            public override void Flush()
            {
                _inner.Flush();
                _dog.Touch();
            }

            public override bool CanRead => _inner.CanRead;
            public override bool CanSeek => false;
            public override bool CanWrite => _inner.CanWrite;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
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
