using System;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Watching;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Sync
{
    /// <summary>
    /// A same-size rewrite whose mtime is put back to the exact nanosecond is invisible to the quick check; only the
    /// event ("content written") or the file's ctime tells. These tests cover the places where the event is gone:
    /// a folded queue, a Rescan that replaced lost events, and a service started again after a stop or a kill.
    /// </summary>
    public class ChangedSinceTests : IDisposable
    {
        private readonly MirrorFixture _m = new MirrorFixture();
        public void Dispose() => _m.Dispose();

        /// <summary>Rewrites $S/conf with the same size and puts its mtime back exactly: only ctime moves.</summary>
        private void RewriteKeepingSizeAndMtime() =>
            _m.Sh("t=$(stat -c %y $S/conf); echo 'enabled=no!' > $S/conf; touch -d \"$t\" $S/conf");

        [Fact]
        public void A_whole_tree_compare_with_ChangedSince_catches_a_rewrite_the_quick_check_cannot_see()
        {
            _m.Sh("echo 'enabled=yes' > $S/conf; echo 'other' > $S/old");
            _m.SyncAll();
            Thread.Sleep(1200);
            var before = DateTime.UtcNow.AddMilliseconds(-200); // after 'old' was written, before the rewrite
            RewriteKeepingSizeAndMtime();

            // A plain whole-tree compare trusts size + mtime (as rsync does without -c): this is what a lost event costs.
            _m.SyncAll();
            Assert.Equal("enabled=yes\n", File.ReadAllText(Path.Combine(_m.Replica, "conf")));

            _m.Results.Clear();
            _m.Session.Sync(_m.Root, new[] { SyncHint.WholeTree(changedSince: before) }, _m.Options());
            Assert.Equal("enabled=no!\n", File.ReadAllText(Path.Combine(_m.Replica, "conf")));
            _m.AssertEqual();
            // Files not changed since are quick-checked, not read: only conf was compared by content.
            Assert.DoesNotContain(_m.Results, r => r.RelativePath == "old");
        }

        [Fact]
        public void A_rescan_event_content_compares_files_changed_shortly_before_it()
        {
            _m.Sh("mkdir $S/d; echo 'enabled=yes' > $S/conf");
            _m.SyncAll();
            RewriteKeepingSizeAndMtime();
            var rescan = new MirrorEvent(_m.Source, "", ChangeType.Rescan, true, null, DateTime.UtcNow);
            _m.Session.Sync(_m.Root, SyncHint.FromEvent(rescan).ToList(), _m.Options());
            Assert.Equal("enabled=no!\n", File.ReadAllText(Path.Combine(_m.Replica, "conf")));
        }

        [Fact]
        public void A_folded_queue_keeps_the_content_check_of_what_it_folded()
        {
            var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            var q = new HintQueue(max: 3);
            for (int i = 0; i < 5; i++) q.Add("/src", new SyncHint($"f{i}", false, contentChanged: true), t0.AddSeconds(i));
            var whole = q.Take(10).Single().Hints.Single();
            Assert.Equal("", whole.Path);
            Assert.Equal(SyncHint.ChangedSinceFor(t0), whole.ChangedSince);

            // A written file hinted while a whole-tree compare (without ChangedSince) is queued moves ChangedSince back.
            q.Complete();
            q.Add("/src", SyncHint.WholeTree(), t0.AddSeconds(100));
            q.Add("/src", new SyncHint("g", false, contentChanged: true), t0.AddSeconds(200));
            q.Add("/src", new SyncHint("h", false), t0.AddSeconds(300));
            var next = q.Take(10).Single().Hints.Single();
            Assert.Equal(SyncHint.ChangedSinceFor(t0.AddSeconds(200)), next.ChangedSince);
        }

        [Fact]
        public void A_root_rescan_in_the_coalescer_keeps_the_time_of_the_oldest_change_it_absorbs()
        {
            var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            var c = new Coalescer(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60));
            c.Add(new RawChange(ChangeType.Changed, "a", false, t0));
            c.Add(new RawChange(ChangeType.Changed, "b", false, t0.AddSeconds(5)));
            c.Add(new RawChange(ChangeType.Rescan, "", true, t0.AddSeconds(10)));
            var all = c.TakeAll();
            Assert.Equal(ChangeType.Rescan, all.Single().Kind);
            Assert.Equal(t0, all.Single().Time);
        }

        [Fact]
        public void A_service_started_again_content_compares_what_changed_while_it_was_down()
        {
            var state = Path.Combine(Path.GetDirectoryName(_m.Source), "state");
            _m.Sh("echo 'enabled=yes' > $S/conf; echo 'same' > $S/untouched");
            RunServiceOnce(state, () => File.Exists(Path.Combine(_m.Replica, "conf")));
            Assert.Equal("enabled=yes\n", File.ReadAllText(Path.Combine(_m.Replica, "conf")));
            Assert.Single(Directory.GetFiles(state, "watermark-*.json"));

            // While no service runs: rewritten in place, same size, mtime put back to the nanosecond.
            RewriteKeepingSizeAndMtime();
            RunServiceOnce(state, () => File.ReadAllText(Path.Combine(_m.Replica, "conf")) == "enabled=no!\n");
            Assert.Equal("enabled=no!\n", File.ReadAllText(Path.Combine(_m.Replica, "conf")));
            _m.AssertEqual();
        }

        private void RunServiceOnce(string state, Func<bool> done)
        {
            var watch = WatchRegistry.Start(new WatchOptions { Roots = new[] { _m.Source } });
            var service = new MirrorService(watch, new[] { new MirrorTarget { Name = "local", Kind = TargetKind.Local, Path = _m.Replica } },
                new ServiceOptions { Roots = watch.Path, InitialSync = true, WatermarkDirectory = state });
            try
            {
                service.Start();
                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (!(service.StartupDone && done()) && DateTime.UtcNow < deadline) Thread.Sleep(20);
                Assert.True(service.StartupDone, "the initial sync did not finish");
            }
            finally
            {
                service.Stop();
                watch.Stop();
            }
        }
    }
}
