using System;
using System.Reflection;
using Renci.SshNet;
using Renci.SshNet.Sftp;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// SFTP requests sent with the path exactly as given. SftpClient first canonicalizes every path with the
    /// server's realpath, which follows symlinks: DeleteFile on a link would remove the link's target, and a
    /// rename of a link fails. SSH.NET keeps the plain requests on an internal session interface; we reach them
    /// once by reflection (the SSH.NET version is pinned in the project file).
    /// </summary>
    internal sealed class RawSftpRequests
    {
        private static readonly PropertyInfo SessionProperty =
            typeof(SftpClient).GetProperty("SftpSession", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);
        private static readonly Type SessionType = SessionProperty?.PropertyType;
        private static readonly MethodInfo LStatMethod = Find("RequestLStat", typeof(string));
        private static readonly MethodInfo RemoveMethod = Find("RequestRemove", typeof(string));
        private static readonly MethodInfo RmDirMethod = Find("RequestRmDir", typeof(string));
        private static readonly MethodInfo MkDirMethod = Find("RequestMkDir", typeof(string));
        private static readonly MethodInfo SymLinkMethod = Find("RequestSymLink", typeof(string), typeof(string));
        private static readonly MethodInfo PosixRenameMethod = Find("RequestPosixRename", typeof(string), typeof(string));
        private static readonly MethodInfo SetStatMethod = Find("RequestSetStat", typeof(string), typeof(SftpFileAttributes));
        private static readonly MethodInfo ReadLinkMethod = FindOnImplementation("RequestReadLink", typeof(string), typeof(bool));

        private readonly SftpClient _client;

        public RawSftpRequests(SftpClient client)
        {
            if (LStatMethod == null || RemoveMethod == null || SymLinkMethod == null || PosixRenameMethod == null || SetStatMethod == null)
                throw new NotSupportedException("This SSH.NET build lacks the SFTP session requests RealtimeMirror needs.");
            _client = client;
        }

        private static MethodInfo Find(string name, params Type[] args) => SessionType?.GetMethod(name, args);

        private static MethodInfo FindOnImplementation(string name, params Type[] args) =>
            typeof(SftpClient).Assembly.GetType("Renci.SshNet.Sftp.SftpSession")?.GetMethod(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, args, null);

        private object Invoke(MethodInfo m, params object[] args)
        {
            try { return m.Invoke(SessionProperty.GetValue(_client), args); }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }

        public SftpFileAttributes LStat(string path) => (SftpFileAttributes)Invoke(LStatMethod, path);
        public void Remove(string path) => Invoke(RemoveMethod, path);
        public void RmDir(string path) => Invoke(RmDirMethod, path);
        public void MkDir(string path) => Invoke(MkDirMethod, path);
        /// <summary>Creates <paramref name="linkPath"/> pointing at <paramref name="target"/>, the target stored verbatim.</summary>
        public void SymLink(string target, string linkPath) => Invoke(SymLinkMethod, target, linkPath);
        /// <summary>Atomic rename that replaces an existing destination (posix-rename@openssh.com).</summary>
        public void PosixRename(string from, string to) => Invoke(PosixRenameMethod, from, to);
        public void SetStat(string path, SftpFileAttributes attrs) => Invoke(SetStatMethod, path, attrs);

        public string ReadLink(string path)
        {
            if (ReadLinkMethod == null) return null;
            var result = Invoke(ReadLinkMethod, path, true);
            if (result is Array arr && arr.Length > 0)
            {
                var first = arr.GetValue(0);
                return first.GetType().GetProperty("Key")?.GetValue(first) as string;
            }
            return null;
        }
    }
}
