using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Tests.Transport;
using RealtimeMirror.Engine.Transport;
using RealtimeMirror.Engine.Transport.Rsync;
using Renci.SshNet.Common;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Rsync
{
    /// <summary>
    /// The rsync channel never blocks forever: Ctrl+C closes it within a second, and a host frozen mid-push (its sshd
    /// and rsync stopped with SIGSTOP, as a silent network drop looks from here) turns into a connection-lost error
    /// within about the I/O timeout.
    /// </summary>
    public class DeltaPusherTimeoutTests : IDisposable
    {
        private readonly string _src = Directory.CreateTempSubdirectory("rtm-dpt-src-").FullName;
        private readonly string _dst = Directory.CreateTempSubdirectory("rtm-dpt-dst-").FullName;
        private SecondSshd _second;

        public void Dispose()
        {
            _second?.Dispose();
            Process.Start("rm", new[] { "-rf", _src, _dst }).WaitForExit();
        }

        private FileMeta BigSparseFile(string name, long size)
        {
            using (var f = File.Create(Path.Combine(_src, name))) f.SetLength(size);
            return PosixTestFs.LStat(_src + "/" + name, name);
        }

        [SshFact]
        public void Cancel_closes_the_channel_and_returns_within_a_second()
        {
            var target = SshTestEnvironment.Target(_dst);
            target.Rsync = RsyncMode.Always;
            using var pusher = DeltaPusher.TryOpen(target, true);
            var big = BigSparseFile("big.bin", 2L << 30);
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            var clock = Stopwatch.StartNew();
            Assert.ThrowsAny<OperationCanceledException>(() =>
                pusher.Push(new TestSource(_src), new[] { big }, false, false, null, null, cancel.Token));
            Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(1300), $"returned after {clock.ElapsedMilliseconds} ms");
        }

        /// <summary>A target on a second sshd whose logins work (SFTP too) but never answer `rsync --version`.</summary>
        private MirrorTarget HungProbeTarget(int port, int ioTimeoutSeconds)
        {
            _second = new SecondSshd(port, "Subsystem sftp /usr/lib/openssh/sftp-server\n" +
                "ForceCommand case \"$SSH_ORIGINAL_COMMAND\" in 'rsync --version') sleep 30;; *) eval \"$SSH_ORIGINAL_COMMAND\";; esac");
            var target = _second.Target(_dst);
            target.Rsync = RsyncMode.Always;
            target.IoTimeoutSeconds = ioTimeoutSeconds;
            return target;
        }

        [SshFact]
        public void A_login_that_never_answers_the_rsync_probe_is_a_lost_connection_within_the_io_timeout()
        {
            // Logged in, then silence: the shell never runs "rsync --version" (a stuck rc file, a hung NFS home).
            var target = HungProbeTarget(2342, ioTimeoutSeconds: 2);
            var clock = Stopwatch.StartNew();
            var e = Assert.ThrowsAny<Exception>(() => DeltaPusher.TryOpen(target, true)?.Dispose());
            Assert.True(ReplicaFailure.IsConnectionLost(e), e.ToString());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"returned after {clock.ElapsedMilliseconds} ms");
        }

        [SshFact]
        public void Ctrl_C_while_the_rsync_login_waits_ends_opening_a_session_within_a_second()
        {
            // The SFTP login answers; the rsync login made beside it hangs in its probe. Opening the session must still
            // give way to Ctrl+C at once, not wait out the I/O timeout.
            var target = HungProbeTarget(2344, ioTimeoutSeconds: 30);
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
            var clock = Stopwatch.StartNew();
            Assert.ThrowsAny<OperationCanceledException>(() => TargetSession.Open(target, false, cancel.Token).Dispose());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"returned after {clock.ElapsedMilliseconds} ms");
        }

        /// <summary>A source that freezes the replica host the moment the sender opens the file (mid-push).</summary>
        private sealed class FreezingSource : IRsyncSource
        {
            private readonly TestSource _inner;
            private readonly Action _freeze;
            public FreezingSource(string root, Action freeze) { _inner = new TestSource(root); _freeze = freeze; }
            public string Description => _inner.Description;
            public FileMeta Stat(string relativePath) => _inner.Stat(relativePath);
            public FileStream OpenRead(string relativePath, out FileMeta meta)
            {
                _freeze();
                return _inner.OpenRead(relativePath, out meta);
            }
        }

        [SshFact]
        public void A_host_frozen_mid_push_is_a_lost_connection_within_the_timeout()
        {
            _second = new SecondSshd(2302);
            var target = _second.Target(_dst);
            target.Rsync = RsyncMode.Always;
            target.IoTimeoutSeconds = 2;
            using var pusher = DeltaPusher.TryOpen(target, true);
            var big = BigSparseFile("big.bin", 512L << 20);
            // The listener, its session processes and their rsync: everything of that sshd stops answering.
            var source = new FreezingSource(_src, _second.Freeze);
            var clock = Stopwatch.StartNew();
            var e = Assert.ThrowsAny<Exception>(() => pusher.Push(source, new[] { big }, false, false, null, null, default));
            Assert.True(e is SshOperationTimeoutException, e.ToString());
            Assert.True(RealtimeMirror.Engine.Sync.ReplicaFailure.IsConnectionLost(e));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"detected after {clock.ElapsedMilliseconds} ms");
        }
    }
}
