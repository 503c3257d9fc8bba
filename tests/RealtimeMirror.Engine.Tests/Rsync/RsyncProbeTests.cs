using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Transport;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Rsync
{
    /// <summary>The probe's count is process-wide: no other test may open pushers meanwhile.</summary>
    [CollectionDefinition("Rsync probe", DisableParallelization = true)]
    public sealed class RsyncProbeCollection { }

    /// <summary>`rsync --version` runs once per login and process, and again after a push that failed.</summary>
    [Collection("Rsync probe")]
    public class RsyncProbeTests : IDisposable
    {
        private readonly string _src = Directory.CreateTempSubdirectory("rtm-probe-src-").FullName;
        private readonly string _dst = Directory.CreateTempSubdirectory("rtm-probe-dst-").FullName;
        public void Dispose() => Process.Start("rm", new[] { "-rf", _src, _dst }).WaitForExit();

        private MirrorTarget Target(string remotePath)
        {
            var e = DeltaPusherSshTests.Env.Value;
            return new MirrorTarget
            {
                Name = "probe-test", Kind = TargetKind.Ssh, HostName = e["RTM_SSH_HOST"], Port = int.Parse(e["RTM_SSH_PORT"]), User = e["RTM_SSH_USER"],
                KeyFile = e["RTM_SSH_KEY"], KnownHostsFile = e["RTM_SSH_KNOWN_HOSTS"], RemotePath = remotePath, Rsync = RsyncMode.Always,
            };
        }

        private void PushOne(DeltaPusher pusher, List<Exception> errors)
        {
            try { pusher.Push(new TestSource(_src), new[] { PosixTestFs.LStat(_src + "/f", "f") }, false, false, null, (p, x) => errors.Add(x), default); }
            catch (IOException x) { errors.Add(x); }
        }

        [Fact]
        public void A_second_session_to_the_same_login_skips_the_probe_until_a_push_fails()
        {
            File.WriteAllText(Path.Combine(_src, "f"), "probe");
            var good = Target(_dst);
            using (DeltaPusher.TryOpen(good, true)) { } // the probe, unless an earlier test left its result
            int before = DeltaPusher.ProbesRun;
            var errors = new List<Exception>();
            using (var again = DeltaPusher.TryOpen(good, true))
            {
                Assert.Equal(before, DeltaPusher.ProbesRun);
                PushOne(again, errors);
            }
            Assert.Empty(errors);
            Assert.Equal("probe", File.ReadAllText(Path.Combine(_dst, "f")));
            Assert.Equal(before, DeltaPusher.ProbesRun);

            // A push the server fails (its root cannot be made): the next session asks the host again.
            using (var failing = DeltaPusher.TryOpen(Target(Path.Combine(_dst, "f", "under-a-file")), true)) PushOne(failing, errors);
            Assert.NotEmpty(errors);
            using (DeltaPusher.TryOpen(good, true)) Assert.Equal(before + 1, DeltaPusher.ProbesRun);
        }

        private static long LoopbackBytes() =>
            long.Parse(File.ReadAllLines("/proc/net/dev").First(l => l.TrimStart().StartsWith("lo:")).Split(':')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]);

        /// <summary>
        /// rsync before 3.2 would compress with zlib tokens, which we do not speak: with -Compress its push goes without
        /// rsync's -z over an SSH connection that compresses, so the files still go through rsync, compressed, and no
        /// push fails. The host here is newer; its probe's answer is replaced by RHEL 8's rsync, which is what decides.
        /// </summary>
        [Theory]
        [InlineData("rsync  version 3.1.3  protocol version 31", "zlib@openssh.com", "none")]
        [InlineData("rsync  version 3.0.9  protocol version 30", "zlib@openssh.com", "none")]
        [InlineData("rsync  version 3.2.7  protocol version 31", "none", "zstd")]
        public void With_compress_an_rsync_before_3_2_gets_a_compressing_ssh_connection(string versionLine, string sshCompression, string rsyncCompression)
        {
            var text = string.Concat(Enumerable.Repeat("the same line of text, again and again\n", 60_000)); // 2.3 MB
            File.WriteAllText(Path.Combine(_src, "f"), text);
            var target = Target(_dst);
            target.Compress = true;
            DeltaPusher.RememberProbe(target, versionLine);
            try
            {
                var errors = new List<Exception>();
                long before = LoopbackBytes();
                using (var pusher = DeltaPusher.TryOpen(target, true))
                {
                    Assert.Equal(sshCompression, pusher.ConnectionCompression);
                    var outcome = pusher.Push(new TestSource(_src), new[] { PosixTestFs.LStat(_src + "/f", "f") }, false, false, null, (p, x) => errors.Add(x), default);
                    Assert.Equal(rsyncCompression, outcome.Compression);
                }
                long wire = LoopbackBytes() - before;
                Assert.Empty(errors);
                Assert.Equal(text, File.ReadAllText(Path.Combine(_dst, "f")));
                Assert.True(wire < text.Length / 5, $"{wire} bytes on the wire for {text.Length} of text");
            }
            finally { DeltaPusher.ForgetProbe(target); }
        }
    }
}
