using System;
using System.Collections.Generic;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Renci.SshNet;
using Renci.SshNet.Sftp;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// SFTP requests sent with the path exactly as given. SftpClient first canonicalizes every path with the
    /// server's realpath, which follows symlinks: DeleteFile on a link would remove the link's target, an upload
    /// would land wherever a swapped-in link points. SSH.NET keeps the plain requests (and the handle-based ones:
    /// open, write, fsetstat, readdir) on its internal session; we reach them once by reflection (the SSH.NET
    /// version is pinned in the project file, and a missing method fails at construction, not mid-sync).
    /// Strings travel in the connection's encoding, which SshConnector sets to PathEncoding (names are bytes).
    /// </summary>
    internal sealed class RawSftpRequests
    {
        private static readonly PropertyInfo SessionProperty =
            typeof(SftpClient).GetProperty("SftpSession", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
        private static readonly Type SessionType = typeof(SftpClient).Assembly.GetType("Renci.SshNet.Sftp.SftpSession");
        private static readonly Type FlagsType = typeof(SftpClient).Assembly.GetType("Renci.SshNet.Sftp.Flags");

        private static readonly MethodInfo LStatMethod = Find("RequestLStat", typeof(string));
        private static readonly MethodInfo LStatAsyncMethod = Find("RequestLStatAsync", typeof(string), typeof(CancellationToken));
        private static readonly MethodInfo RemoveMethod = Find("RequestRemove", typeof(string));
        private static readonly MethodInfo RemoveAsyncMethod = Find("RequestRemoveAsync", typeof(string), typeof(CancellationToken));
        private static readonly MethodInfo RmDirMethod = Find("RequestRmDir", typeof(string));
        private static readonly MethodInfo MkDirMethod = Find("RequestMkDir", typeof(string));
        private static readonly MethodInfo SymLinkMethod = Find("RequestSymLink", typeof(string), typeof(string));
        private static readonly MethodInfo PosixRenameMethod = Find("RequestPosixRename", typeof(string), typeof(string));
        private static readonly MethodInfo SetStatMethod = Find("RequestSetStat", typeof(string), typeof(SftpFileAttributes));
        private static readonly MethodInfo FSetStatMethod = Find("RequestFSetStat", typeof(byte[]), typeof(SftpFileAttributes));
        private static readonly MethodInfo ReadLinkMethod = Find("RequestReadLink", typeof(string), typeof(bool));
        private static readonly MethodInfo RealPathMethod = Find("RequestRealPath", typeof(string), typeof(bool));
        private static readonly MethodInfo OpenMethod = FlagsType == null ? null : Find("RequestOpen", typeof(string), FlagsType);
        private static readonly MethodInfo CloseMethod = Find("RequestClose", typeof(byte[]));
        private static readonly MethodInfo ReadMethod = Find("RequestRead", typeof(byte[]), typeof(ulong), typeof(uint));
        private static readonly MethodInfo WriteAsyncMethod =
            Find("RequestWriteAsync", typeof(byte[]), typeof(ulong), typeof(byte[]), typeof(int), typeof(int), typeof(CancellationToken));
        private static readonly MethodInfo OpenDirMethod = Find("RequestOpenDir", typeof(string));
        private static readonly MethodInfo ReadDirMethod = Find("RequestReadDir", typeof(byte[]));
        private static readonly MethodInfo WriteLengthMethod = Find("CalculateOptimalWriteLength", typeof(uint), typeof(byte[]));

        // SSH_FXF_* open flags as SSH.NET's internal Flags enum values.
        public const int OpenRead = 1, OpenWrite = 2, OpenCreateExclusive = 40;

        private readonly SftpClient _client;

        public RawSftpRequests(SftpClient client)
        {
            foreach (var m in new[] { LStatMethod, LStatAsyncMethod, RemoveMethod, RemoveAsyncMethod, RmDirMethod, MkDirMethod, SymLinkMethod, PosixRenameMethod,
                                      SetStatMethod, FSetStatMethod, ReadLinkMethod, RealPathMethod, OpenMethod, CloseMethod, ReadMethod,
                                      WriteAsyncMethod, OpenDirMethod, ReadDirMethod })
                if (m == null) throw new NotSupportedException("This SSH.NET build lacks the SFTP session requests RealtimeMirror needs.");
            _client = client;
        }

        private static MethodInfo Find(string name, params Type[] args) =>
            SessionType?.GetMethod(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, args, null);

        private object Invoke(MethodInfo m, params object[] args)
        {
            var session = SessionProperty.GetValue(_client) ?? throw new InvalidOperationException("The SFTP session is not connected.");
            try { return m.Invoke(session, args); }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                if (e.InnerException is Renci.SshNet.Common.SshOperationTimeoutException) TimedOut();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }

        /// <summary>
        /// A request waited out the I/O timeout: the link is taken as dead, so the socket is shut now. Every later
        /// request on it (a cleanup, the next entry's lstat) then fails at once instead of waiting the timeout again.
        /// </summary>
        public void TimedOut()
        {
            try { SshSocketAbort.Abort(_client); } catch (Exception) { /* gone already */ }
        }

        public SftpFileAttributes LStat(string path) => (SftpFileAttributes)Invoke(LStatMethod, path);
        /// <summary>Sent without waiting, so a chain of lstats costs one round trip.</summary>
        public Task<SftpFileAttributes> LStatAsync(string path) => (Task<SftpFileAttributes>)Invoke(LStatAsyncMethod, path, CancellationToken.None);
        public void Remove(string path) => Invoke(RemoveMethod, path);
        /// <summary>Sent without waiting for the host to finish the unlink.</summary>
        public Task RemoveAsync(string path) => (Task)Invoke(RemoveAsyncMethod, path, CancellationToken.None);
        public void RmDir(string path) => Invoke(RmDirMethod, path);
        public void MkDir(string path) => Invoke(MkDirMethod, path);
        /// <summary>Creates <paramref name="linkPath"/> pointing at <paramref name="target"/>, the target stored verbatim.</summary>
        public void SymLink(string target, string linkPath) => Invoke(SymLinkMethod, target, linkPath);
        /// <summary>Atomic rename that replaces an existing destination (posix-rename@openssh.com).</summary>
        public void PosixRename(string from, string to) => Invoke(PosixRenameMethod, from, to);
        /// <summary>SETSTAT by path: the server follows a link at the final name, so callers lstat first.</summary>
        public void SetStat(string path, SftpFileAttributes attrs) => Invoke(SetStatMethod, path, attrs);
        public void FSetStat(byte[] handle, SftpFileAttributes attrs) => Invoke(FSetStatMethod, handle, attrs);

        public byte[] Open(string path, int flags) => (byte[])Invoke(OpenMethod, path, Enum.ToObject(FlagsType, flags));
        public void Close(byte[] handle) => Invoke(CloseMethod, handle);
        /// <summary>Up to <paramref name="length"/> bytes at <paramref name="offset"/>; empty at end of file.</summary>
        public byte[] Read(byte[] handle, ulong offset, uint length) => (byte[])Invoke(ReadMethod, handle, offset, length);
        /// <summary>Sends one write without waiting for its status, so several can be in flight.</summary>
        public Task WriteAsync(byte[] handle, ulong offset, byte[] data, int length, CancellationToken cancel) =>
            (Task)Invoke(WriteAsyncMethod, handle, offset, data, 0, length, cancel);

        /// <summary>The largest write payload that fits one SSH channel packet.</summary>
        public int WriteLength(byte[] handle)
        {
            if (WriteLengthMethod == null) return 32 * 1024 - 64;
            return (int)(uint)Invoke(WriteLengthMethod, 32u * 1024u, handle);
        }

        public byte[] OpenDir(string path) => (byte[])Invoke(OpenDirMethod, path);
        /// <summary>The next batch of (name, lstat attributes); null at the end of the directory.</summary>
        public KeyValuePair<string, SftpFileAttributes>[] ReadDir(byte[] handle) =>
            (KeyValuePair<string, SftpFileAttributes>[])Invoke(ReadDirMethod, handle);

        public string ReadLink(string path) => FirstName(Invoke(ReadLinkMethod, path, false));

        /// <summary>The server's canonical absolute form of <paramref name="path"/> (follows links: used only for the configured root).</summary>
        public string RealPath(string path) => FirstName(Invoke(RealPathMethod, path, false));

        private static string FirstName(object result) =>
            result is KeyValuePair<string, SftpFileAttributes>[] arr && arr.Length > 0 ? arr[0].Key : null;
    }
}
