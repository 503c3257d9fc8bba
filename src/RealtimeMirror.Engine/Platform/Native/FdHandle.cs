using System;
using System.Runtime.InteropServices;

namespace RealtimeMirror.Engine.Platform.Native
{
    /// <summary>
    /// An owned file descriptor. Unlike SafeFileHandle it treats only -1 as invalid (0 is a valid fd), and
    /// <see cref="Lease"/> keeps it from being closed under a call running on another thread.
    /// </summary>
    internal sealed class FdHandle : SafeHandle
    {
        public FdHandle(int fd) : base((IntPtr)(-1), true) => SetHandle((IntPtr)fd);

        public override bool IsInvalid => handle == (IntPtr)(-1);

        protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;

        /// <summary>The raw fd, held open until the lease is disposed; ObjectDisposedException once closed.</summary>
        public Lease Acquire()
        {
            bool added = false;
            DangerousAddRef(ref added);
            return new Lease(this, (int)handle);
        }

        public readonly struct Lease : IDisposable
        {
            private readonly SafeHandle _owner;
            public readonly int Fd;
            public Lease(SafeHandle owner, int fd) { _owner = owner; Fd = fd; }
            public void Dispose() => _owner?.DangerousRelease();
        }
    }
}
