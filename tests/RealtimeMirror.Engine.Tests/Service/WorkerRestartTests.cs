using System;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Tests.Transport;
using RealtimeMirror.Engine.Watching;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Service
{
    /// <summary>
    /// An exception in a target's worker loop itself (not in a sync, which has its own handling) never ends the
    /// worker: the target goes Retrying with the error as LastError, starts over, and what was queued arrives.
    /// </summary>
    public class WorkerRestartTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("rtm-restart-").FullName;

        public void Dispose() { try { Directory.Delete(_dir, true); } catch (Exception) { } }

        [Fact]
        public void A_throw_in_the_worker_loop_makes_a_local_target_retry_and_deliver() =>
            ThrowOnceThenDeliver(new MirrorTarget { Name = "local", Kind = TargetKind.Local, Path = Path.Combine(_dir, "replica") },
                Path.Combine(_dir, "replica"));

        [SshFact]
        public void A_throw_in_the_worker_loop_makes_an_ssh_target_retry_and_deliver()
        {
            var replica = Path.Combine(_dir, "ssh-replica");
            var target = SshTestEnvironment.Target(replica);
            target.Name = "ssh";
            ThrowOnceThenDeliver(target, replica);
        }

        private void ThrowOnceThenDeliver(MirrorTarget target, string replica)
        {
            var src = Directory.CreateDirectory(Path.Combine(_dir, "src-" + target.Name)).FullName;
            File.WriteAllText(Path.Combine(src, "first.txt"), "first");
            var watch = WatchRegistry.Start(new WatchOptions { Roots = new[] { src }, Settle = TimeSpan.FromMilliseconds(20) });
            int batches = 0;
            var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            var service = new MirrorService(watch, new[] { target }, new ServiceOptions
            {
                Roots = watch.Path, InitialSync = true, RetryFirst = TimeSpan.FromMilliseconds(200),
                OnError = (_, __, e) => errors.Enqueue(e),
                // The second batch (the first after the initial sync) hits a "bug" in the loop.
                BeforeBatchForTests = _ => { if (Interlocked.Increment(ref batches) == 2) throw new InvalidOperationException("injected worker fault"); },
            });
            try
            {
                service.Start();
                Eventually.True(() => File.Exists(Path.Combine(replica, "first.txt")) && service.Targets[0].State == TargetState.Idle, "the initial sync");
                File.WriteAllText(Path.Combine(src, "second.txt"), "second");
                Eventually.True(() => service.Targets[0].State == TargetState.Retrying, "Retrying after the fault");
                Assert.Equal($"Target '{target.Name}': injected worker fault", service.Targets[0].LastError); // the status names its target
                Assert.Contains(errors, e => e.Message == "injected worker fault");
                Eventually.True(() => File.Exists(Path.Combine(replica, "second.txt")) && service.Targets[0].State == TargetState.Idle, "delivery after the restart");
                Assert.Equal("second", File.ReadAllText(Path.Combine(replica, "second.txt")));
                // Still alive: later changes keep flowing.
                File.WriteAllText(Path.Combine(src, "third.txt"), "third");
                Eventually.True(() => File.Exists(Path.Combine(replica, "third.txt")), "a later change");
            }
            finally
            {
                service.Stop();
                watch.Stop();
            }
        }
    }
}
