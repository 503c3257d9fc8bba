using System;
using System.Linq;
using Renci.SshNet;

namespace RealtimeMirror.Engine.Targets
{
    /// <summary>
    /// A login shell whose startup files print text (a banner, a motd, "Welcome...") for non-interactive sessions, or
    /// a ForceCommand that greets: sshd runs `rsync --server` and an external sftp-server through that shell, so the
    /// text lands where the protocol's first bytes belong. Read as a protocol it is nonsense (an SFTP length of 1.4 GB
    /// waited for until the timeout, an rsync version of 1,668,048,215), so it is recognized and named instead, as a
    /// permanent refusal: the host does not fix itself.
    /// </summary>
    public static class LoginShellNoise
    {
        /// <summary>The one wording, whichever protocol met the text.</summary>
        public static string Message(string targetName, string host, string protocol, string firstLine) =>
            $"Target '{targetName}': the login shell on {host} printed text before {protocol} started (\"{Printable(firstLine)}\"): " +
            "make the shell's startup files quiet for non-interactive sessions (or remove the greeting from ForceCommand).";

        /// <summary>
        /// What a fixed, silent command (`true`) prints on the target: the shell's own noise, or null when it prints
        /// nothing (or the probe itself cannot run, in which case the original failure stands).
        /// </summary>
        public static string Probe(MirrorTarget target)
        {
            try
            {
                using var ssh = new SshClient(SshConnector.ConnectionFor(target));
                SshConnector.Connect(ssh, target);
                using var cmd = ssh.CreateCommand("true");
                cmd.CommandTimeout = target.IoTimeout;
                var output = cmd.Execute() ?? "";
                return FirstLine(output);
            }
            catch (Exception) { return null; }
        }

        /// <summary>The first non-empty line of <paramref name="text"/>, or null when there is none.</summary>
        public static string FirstLine(string text) =>
            (text ?? "").Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.Trim().Length > 0);

        private static string Printable(string s)
        {
            var shown = new string((s ?? "").Select(c => char.IsControl(c) ? '?' : c).ToArray());
            return shown.Length > 80 ? shown.Substring(0, 80) + "..." : shown;
        }
    }
}
