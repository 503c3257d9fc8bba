using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Watching;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Service
{
    /// <summary>
    /// One event that a target cannot queue never ends the fan-out: it is reported with that target and path, that
    /// target compares the whole tree instead (so the change still arrives), the other targets get it as usual, and
    /// every later change keeps flowing to all of them.
    /// </summary>
    public class FanOutTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("rtm-fanout-").FullName;

        public void Dispose() { try { Directory.Delete(_dir, true); } catch (Exception) { } }

        [Fact]
        public void An_event_one_target_cannot_queue_is_reported_and_still_arrives_everywhere()
        {
            var src = Directory.CreateDirectory(Path.Combine(_dir, "src")).FullName;
            string Replica(string name) => Path.Combine(_dir, name);
            var targets = new[] { "a", "b" }.Select(n => new MirrorTarget { Name = n, Kind = TargetKind.Local, Path = Replica(n) }).ToArray();
            var watch = WatchRegistry.Start(new WatchOptions { Roots = new[] { src }, Settle = TimeSpan.FromMilliseconds(20) });
            var errors = new ConcurrentQueue<(string Target, string Path, Exception Error)>();
            int poisoned = 0;
            var service = new MirrorService(watch, targets, new ServiceOptions
            {
                Roots = watch.Path, InitialSync = true, StatusDirectory = Path.Combine(_dir, "run"),
                OnError = (t, p, e) => errors.Enqueue((t, p, e)),
                // Target a cannot queue the event for poison.txt, once.
                BeforeEnqueueForTests = (t, e) =>
                {
                    if (t == "a" && e.RelativePath == "poison.txt" && Interlocked.Exchange(ref poisoned, 1) == 0)
                        throw new InvalidOperationException("injected enqueue fault");
                },
            });
            try
            {
                service.Start();
                Eventually.True(() => service.Targets.All(t => t.State == TargetState.Idle), "the initial syncs");
                File.WriteAllText(Path.Combine(src, "poison.txt"), "the event a cannot queue");
                Eventually.True(() => errors.Any(), "the fault reported");
                var (target, path, error) = errors.Single();
                Assert.Equal(("a", "poison.txt", "injected enqueue fault"), (target, path, error.Message));
                // b as usual, a through the whole-tree compare queued in its place.
                foreach (var n in new[] { "a", "b" })
                    Eventually.True(() => File.Exists(Path.Combine(Replica(n), "poison.txt")), "poison.txt on " + n);
                // The fan-out is alive: later changes reach both.
                File.WriteAllText(Path.Combine(src, "later.txt"), "after the fault");
                foreach (var n in new[] { "a", "b" })
                    Eventually.True(() => File.Exists(Path.Combine(Replica(n), "later.txt")), "later.txt on " + n);
                Assert.Equal("the event a cannot queue", File.ReadAllText(Path.Combine(Replica("a"), "poison.txt")));
                Assert.Single(errors);
            }
            finally
            {
                service.Stop();
                watch.Stop();
            }
        }
    }
}
