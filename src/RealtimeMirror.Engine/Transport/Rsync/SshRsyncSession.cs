using System;
using System.IO;
using Renci.SshNet;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// `rsync --server` on an SSH host, over an exec channel of an already connected SSH.NET client.
    /// The only shell-quoted word in the command is the replica root.
    /// </summary>
    public sealed class SshRsyncSession : IDisposable
    {
        private readonly SshCommand _command;
        private readonly IAsyncResult _running;

        public SshRsyncSession(SshClient client, RsyncPushOptions options, string remoteDir)
        {
            _command = client.CreateCommand(RsyncServerCommand.RemoteCommandLine(options, remoteDir));
            _running = _command.BeginExecute();
            ToServer = _command.CreateInputStream();
            FromServer = _command.OutputStream;
        }

        public Stream FromServer { get; }
        public Stream ToServer { get; }

        /// <summary>Ends our side and waits for the server; returns its exit status (0 = all done).</summary>
        public int WaitForExit()
        {
            try { ToServer.Dispose(); } catch (Exception) { }
            _command.EndExecute(_running);
            return _command.ExitStatus ?? -1;
        }

        public string Errors => _command.Error;

        public void Dispose() => _command.Dispose();
    }
}
