using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;
using Renci.SshNet.Common;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Transport
{
    /// <summary>
    /// A frozen host costs one I/O timeout per batch, not one per entry: the first request that times out is the
    /// connection's failure (whatever wraps it), and every request after it on that connection fails at once.
    /// </summary>
    public class FrozenHostTests : IDisposable
    {
        private readonly string _src = Directory.CreateTempSubdirectory("rtm-frozen-src-").FullName;
        private readonly string _dst = Directory.CreateTempSubdirectory("rtm-frozen-dst-").FullName;
        private SecondSshd _sshd;

        public void Dispose()
        {
            _sshd?.Dispose();
            Process.Start("rm", new[] { "-rf", _src, _dst }).WaitForExit();
        }

        [Fact]
        public void A_timeout_wrapped_with_context_is_still_a_lost_connection()
        {
            Assert.True(ReplicaFailure.IsConnectionLost(new IOException("Cannot check replica directory 'a'", new SshOperationTimeoutException("timed out"))));
            Assert.True(ReplicaFailure.IsConnectionLost(new AggregateException(new SshConnectionException("gone"))));
            Assert.True(ReplicaFailure.IsConnectionLost(new IOException("x", new System.Net.Sockets.SocketException())));
            Assert.False(ReplicaFailure.IsConnectionLost(new IOException("No space left on device")));
            Assert.False(ReplicaFailure.IsConnectionLost(new UnauthorizedAccessException("Permission denied", new IOException("EACCES"))));
        }

        [SshFact]
        public void A_batch_of_ten_files_to_a_frozen_host_fails_as_a_lost_connection_within_one_timeout()
        {
            _sshd = new SecondSshd(2303);
            var target = _sshd.Target(_dst);
            target.Rsync = RsyncMode.Never;
            target.IoTimeoutSeconds = 2;
            for (int i = 0; i < 10; i++) File.WriteAllText(Path.Combine(_src, $"f{i}.txt"), $"file {i}");
            using var session = TargetSession.Open(target, false, CancellationToken.None);
            using var root = new SourceRoot(_src);
            var errors = 0;
            var options = new SyncOptions { Delete = true, OnResult = _ => { }, OnError = (_, _) => errors++, Cancel = CancellationToken.None };
            _sshd.Freeze();
            var clock = Stopwatch.StartNew();
            var hints = Enumerable.Range(0, 10).Select(i => new SyncHint($"f{i}.txt", subtree: false, contentChanged: true));
            var e = Assert.ThrowsAny<Exception>(() => session.Sync(root, hints, options));
            Assert.True(ReplicaFailure.IsConnectionLost(e), e.ToString());
            // One timeout (2 s) and some slack for a loaded machine; ten timeouts in a row would be 20 s.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"lost connection seen after {clock.ElapsedMilliseconds} ms");
            Assert.Equal(0, errors);
            // The dead link fails the next request at once instead of waiting out the timeout again.
            clock.Restart();
            Assert.ThrowsAny<Exception>(() => session.Replica.Stat("f0.txt"));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"second request failed after {clock.ElapsedMilliseconds} ms");
        }
    }
}
