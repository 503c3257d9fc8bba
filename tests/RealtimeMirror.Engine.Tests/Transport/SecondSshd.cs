using System;
using System.Diagnostics;
using System.IO;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Engine.Tests.Transport
{
    /// <summary>
    /// A loopback sshd of its own (the main test sshd's keys, another port) that a test may freeze with SIGSTOP: the
    /// listener, its session processes and their sftp-server and rsync all stop answering, which is how a silent
    /// network drop looks from here. Disposing thaws and kills it.
    /// </summary>
    internal sealed class SecondSshd : IDisposable
    {
        private readonly string _state = Directory.CreateTempSubdirectory("rtm-sshd2-").FullName;

        /// <param name="extraConfig">More sshd_config lines (a ForceCommand that misbehaves, say).</param>
        public SecondSshd(int port, string extraConfig = "")
        {
            Port = port;
            var keys = Path.GetDirectoryName(SshTestEnvironment.Target("/").KeyFile);
            var extra = Path.Combine(_state, "extra_config");
            File.WriteAllText(extra, extraConfig);
            Bash($"cp '{keys}'/host_ed25519* '{keys}'/client_ed25519* '{_state}/' && RTM_SSHD_EXTRA_CONFIG=\"$(cat '{extra}')\" RTM_SSHD_STATE='{_state}' RTM_SSHD_PORT={port} bash '{FindScript()}'");
        }

        public int Port { get; }

        /// <summary>The main test target, moved to this sshd.</summary>
        public MirrorTarget Target(string remotePath)
        {
            var target = SshTestEnvironment.Target(remotePath).Clone();
            target.Port = Port;
            target.KnownHostsFile = Path.Combine(_state, "known_hosts");
            return target;
        }

        public void Freeze() => Signal("STOP");
        public void Thaw() => Signal("CONT");

        private void Signal(string signal) =>
            Bash($"desc() {{ for c in $(pgrep -P $1); do echo $c; desc $c; done; }}; p=$(cat '{_state}/sshd.pid'); kill -{signal} $p $(desc $p) 2>/dev/null; true");

        /// <summary>Thaws, then kills sshd itself (listener and sessions) only: a shell a session runs ends on its own
        /// once its connection is gone, so nothing it holds (a lock of the login shell's rc files) is left behind.</summary>
        public void Dispose()
        {
            Thaw();
            Bash($"p=$(cat '{_state}/sshd.pid'); desc() {{ for c in $(pgrep -P $1); do echo $c; desc $c; done; }}; " +
                 $"for c in $p $(desc $p); do case $(cat /proc/$c/comm 2>/dev/null) in sshd*) kill -KILL $c 2>/dev/null;; esac; done; rm -rf '{_state}'; true");
        }

        internal static string Bash(string script)
        {
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(script);
            using var p = Process.Start(psi);
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return output;
        }

        private static string FindScript()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "sshd", "start-test-sshd.sh");
                if (File.Exists(candidate)) return candidate;
            }
            throw new FileNotFoundException("tests/sshd/start-test-sshd.sh");
        }
    }
}
