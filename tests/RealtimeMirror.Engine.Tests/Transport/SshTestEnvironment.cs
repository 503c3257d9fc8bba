using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using RealtimeMirror.Engine.Targets;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Transport
{
    /// <summary>
    /// The loopback sshd of tests/sshd: taken from RTM_SSH_* when exported, else started with the script once per run.
    /// Tests needing it use <see cref="SshFactAttribute"/>, which skips them with the reason when neither works.
    /// </summary>
    internal static class SshTestEnvironment
    {
        private static readonly Lazy<Dictionary<string, string>> Env = new Lazy<Dictionary<string, string>>(Load);

        public static string SkipReason { get; private set; }
        public static bool Available => Env.Value != null;

        public static MirrorTarget Target(string remotePath, bool preserveOwner = true)
        {
            var e = Env.Value;
            return new MirrorTarget
            {
                Name = "sftp-test", Kind = TargetKind.Ssh, HostName = e["RTM_SSH_HOST"], Port = int.Parse(e["RTM_SSH_PORT"]),
                User = e["RTM_SSH_USER"], KeyFile = e["RTM_SSH_KEY"], KnownHostsFile = e["RTM_SSH_KNOWN_HOSTS"],
                RemotePath = remotePath, PreserveOwner = preserveOwner,
            };
        }

        private static Dictionary<string, string> Load()
        {
            var names = new[] { "RTM_SSH_HOST", "RTM_SSH_PORT", "RTM_SSH_USER", "RTM_SSH_KEY", "RTM_SSH_KNOWN_HOSTS" };
            var env = new Dictionary<string, string>();
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("RTM_SSH_PORT")))
            {
                foreach (var n in names) env[n] = Environment.GetEnvironmentVariable(n);
                return env;
            }
            var script = FindScript();
            if (script == null) { SkipReason = "RTM_SSH_PORT is unset and tests/sshd/start-test-sshd.sh was not found."; return null; }
            try
            {
                var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
                psi.ArgumentList.Add(script);
                using var p = Process.Start(psi);
                var output = p.StandardOutput.ReadToEnd();
                var error = p.StandardError.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0) { SkipReason = $"RTM_SSH_PORT is unset and the test sshd did not start: {error.Trim()}"; return null; }
                foreach (var line in output.Split('\n'))
                {
                    int eq = line.IndexOf('=');
                    if (eq > 0) env[line.Substring(0, eq)] = line.Substring(eq + 1).Trim();
                }
                foreach (var n in names)
                    if (!env.ContainsKey(n)) { SkipReason = $"The test sshd script did not print {n}."; return null; }
                return env;
            }
            catch (Exception e) { SkipReason = $"RTM_SSH_PORT is unset and the test sshd could not be started: {e.Message}"; return null; }
        }

        private static string FindScript()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "sshd", "start-test-sshd.sh");
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }
    }

    /// <summary>A fact that needs the loopback sshd; skipped, with the reason, when there is none.</summary>
    public sealed class SshFactAttribute : FactAttribute
    {
        public SshFactAttribute()
        {
            if (!SshTestEnvironment.Available) Skip = SshTestEnvironment.SkipReason ?? "No test sshd.";
        }
    }
}
