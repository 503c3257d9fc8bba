using System;
using System.IO;
using System.Runtime.InteropServices;

namespace RealtimeMirror.Engine.Platform.Native
{
    /// <summary>
    /// Turns an errno into the exception callers expect: absent -> FileNotFoundException (callers already treat
    /// that as "gone meanwhile"), not permitted -> UnauthorizedAccessException, anything else -> PosixException
    /// with the errno, so ELOOP from a planted symlink stays recognisable.
    /// </summary>
    internal static class PosixErrors
    {
        public static Exception For(int errno, string op, string path)
        {
            var message = $"{op} '{path}': {Marshal.GetPInvokeErrorMessage(errno)}";
            switch (errno)
            {
                case Errno.ENOENT: return new FileNotFoundException(message, path);
                case Errno.EACCES:
                case Errno.EPERM: return new UnauthorizedAccessException(message) { HResult = errno };
                default: return new PosixException(errno, message);
            }
        }

        public static void Check(int rc, string op, string path)
        {
            if (rc < 0) throw For(Errno.Last, op, path);
        }
    }
}
