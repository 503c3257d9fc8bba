using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// The receiving server's command line. Only the destination root is ever quoted into it; file names
    /// travel inside the protocol, never through a shell.
    /// </summary>
    public static class RsyncServerCommand
    {
        public static IReadOnlyList<string> ServerArgs(RsyncPushOptions o, string remoteDir)
        {
            // No -v: results come from what we sent, not from parsing the receiver's log.
            var flags = new StringBuilder("-");
            if (o.PreserveLinks) flags.Append('l');
            if (o.PreserveHardLinks) flags.Append('H');
            if (o.PreserveOwner) flags.Append('o');
            if (o.PreserveGroup) flags.Append('g');
            if (o.PreserveTimes) flags.Append('t');
            if (o.PreservePerms) flags.Append('p');
            if (o.PreserveSpecials) flags.Append('D');
            if (o.IgnoreTimes) flags.Append('I');
            if (o.Recursive) flags.Append('r');
            if (o.Compress) flags.Append('z');
            // Our capabilities for protocol 30+ (rsync's "-e.xxx" client info; ignored below 30): f safe file-list end
            // (io_error in it), x no xattr shortcut, C checksum seed order fixed, v varint flags and checksum negotiation,
            // L symlink times. No 'i': we send one whole list, never incremental recursion.
            if (o.Capabilities.Any(c => !char.IsAsciiLetter(c))) throw new ArgumentException("Capabilities are letters only.");
            flags.Append("e.").Append(o.Capabilities);
            Targets.MirrorTarget.CheckRemotePath("(rsync)", remoteDir); // never an option, whoever calls
            var args = new List<string> { "rsync", "--server", flags.ToString() };
            if (o.PreserveOwner || o.PreserveGroup) args.Add("--numeric-ids"); // same ids on both sides; no name lists on the wire
            if (o.Delete) args.Add("--delete");
            // Makes the receiver confirm each file it wrote (MSG_SUCCESS); the removing it asks of the sender is never done.
            if (o.ConfirmEachFile) args.Add("--remove-source-files");
            if (o.BackupDir != null)
            {
                // Only our stamp paths: nothing here needs quoting, nor could be read as an option or leave the root.
                if (o.BackupDir.Length == 0 || o.BackupDir[0] == '-' || o.BackupDir[0] == '/' || o.BackupDir.Contains("..") ||
                    o.BackupDir.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '.' || c == '_' || c == '-' || c == '/')))
                    throw new ArgumentException($"'{o.BackupDir}' is not a backup directory this sender passes on.");
                args.Add("--backup");
                args.Add("--backup-dir=" + o.BackupDir);
            }
            if (o.ServerProtocol is int p)
            {
                if (p < 20 || p > 40) throw new ArgumentOutOfRangeException(nameof(o.ServerProtocol));
                args.Add("--protocol=" + p);
            }
            args.Add(".");
            args.Add(remoteDir.EndsWith("/") ? remoteDir : remoteDir + "/");
            return args;
        }

        /// <summary>POSIX shell single-quoting: 'it'\''s'.</summary>
        public static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''") + "'";

        public static string RemoteCommandLine(RsyncPushOptions o, string remoteDir, string rsyncPath = "rsync")
        {
            var args = ServerArgs(o, remoteDir);
            var sb = new StringBuilder(rsyncPath == "rsync" ? "rsync" : ShellQuote(rsyncPath));
            for (int i = 1; i < args.Count; i++) sb.Append(' ').Append(i == args.Count - 1 ? ShellQuote(args[i]) : args[i]);
            return sb.ToString();
        }
    }
}
