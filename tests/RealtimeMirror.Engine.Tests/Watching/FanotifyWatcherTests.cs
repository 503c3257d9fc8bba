using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;
using RealtimeMirror.Engine.Watching;
using RealtimeMirror.Engine.Watching.Fanotify;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Watching
{
    /// <summary>
    /// The fanotify backend on real kernel events: the shared tests of KernelWatcherTestBase, and what only a
    /// filesystem-wide mark brings (no per-directory watches, the rest of the filesystem filtered out, other
    /// filesystems and bind mounts below the root). Skipped, with the reason, where fanotify is not permitted.
    /// </summary>
    public class FanotifyWatcherTests : KernelWatcherTestBase
    {
        private readonly List<string> _mounts = new List<string>();

        public FanotifyWatcherTests() : this("rtm-fanotify-") { }
        protected FanotifyWatcherTests(string prefix) : base(prefix) { }

        /// <summary>Opens the group as a kernel before 5.17 would (see FanotifyBefore517WatcherTests).</summary>
        protected virtual bool AsBeforeLinux517 => false;
        protected override bool PairsMoves => !AsBeforeLinux517;

        public override void Dispose()
        {
            foreach (var m in Enumerable.Reverse(_mounts)) Run("umount -l " + Quote(m));
            base.Dispose();
        }

        protected override WatchBackend Backend => WatchBackend.Fanotify;
        protected override string QueueLimitFile => "/proc/sys/fs/fanotify/max_queued_events";
        private protected override ITreeWatcher NewWatcher(GlobFilter exclude) => new FanotifyWatcher(_src, exclude, _raw, _faults.Enqueue, null, AsBeforeLinux517);
        private protected override void Pause(ITreeWatcher w, bool paused) => ((FanotifyWatcher)w).PauseReader = paused;
        private protected override void FailOnce(ITreeWatcher w) => ((FanotifyWatcher)w).FailOnce = true;
        private protected override List<string> Mapped(ITreeWatcher w) => ((FanotifyWatcher)w).WatchedDirectories();

        private FanotifyWatcher WatchFanotify(GlobFilter exclude = null, Action<FanotifyWatcher> configure = null)
        {
            var w = new FanotifyWatcher(_src, exclude ?? GlobFilter.None, _raw, _faults.Enqueue, null, AsBeforeLinux517);
            configure?.Invoke(w);
            w.Start();
            return w;
        }

        private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

        private static bool Run(string command)
        {
            var psi = new ProcessStartInfo("bash", new[] { "-c", command }) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi);
            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }

        /// <summary>Mounts (tmpfs, or a bind mount); false where this machine does not let the test mount.</summary>
        private bool Mount(string arguments, string at)
        {
            if (!Run("mount " + arguments + " " + Quote(at))) return false;
            _mounts.Add(at);
            return true;
        }

        /// <summary>The marks the kernel holds for the group (fdinfo: one "fanotify ..." line per mark).</summary>
        private static List<string> Marks(FanotifyWatcher w) =>
            File.ReadAllLines($"/proc/self/fdinfo/{w.GroupFd}").Where(l => l.StartsWith("fanotify ") && !l.StartsWith("fanotify flags")).ToList();

        [KernelFact]
        public void Twenty_thousand_directories_are_watched_with_one_filesystem_mark_and_no_per_directory_watches()
        {
            for (int i = 0; i < 200; i++)
                for (int j = 0; j < 100; j++) Directory.CreateDirectory(S($"d{i}/e{j}"));
            using (var w = WatchFanotify())
            {
                Assert.Equal(1 + 200 + 20_000, Mapped(w).Count);
                var marks = Marks(w);
                // One mark for the filesystem (sdev only), one on the root itself (its removal or move).
                Assert.Equal(2, marks.Count);
                Assert.Single(marks, m => !m.Contains("ino:"));
                Assert.Equal(1, w.MarkedFilesystems);
                Assert.Equal(!AsBeforeLinux517, w.HasRename); // this kernel (5.17+) has FAN_RENAME
                Assert.Equal(!AsBeforeLinux517, w.HasTarget);
                File.WriteAllText(S("d199/e99/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "d199/e99/f")), Seen);
            }
        }

        [KernelFact]
        public void Events_elsewhere_on_the_filesystem_are_dropped_and_each_outside_directory_is_looked_up_once()
        {
            Directory.CreateDirectory(Path.Combine(_out, "busy"));
            using (var w = WatchFanotify())
            {
                for (int i = 0; i < 200; i++) File.WriteAllText(Path.Combine(_out, "busy", "f" + i), "x");
                File.WriteAllText(S("mine"), "y");
                Assert.True(WaitFor(Is(ChangeType.Created, "mine")), Seen);
                Drain(200);
                Assert.DoesNotContain(_seen, c => c.RelativePath.Contains("busy") || c.RelativePath.StartsWith("f"));
                long lookups = w.Lookups;
                for (int i = 0; i < 200; i++) File.WriteAllText(Path.Combine(_out, "busy", "g" + i), "x");
                File.WriteAllText(S("mine2"), "y");
                Assert.True(WaitFor(Is(ChangeType.Created, "mine2")), Seen);
                // "busy" (and "out") were remembered as outside: no lookup per event. Other processes may write on
                // this filesystem meanwhile, each of their directories costing one lookup, so allow a few.
                Assert.True(w.Lookups - lookups < 50, $"{w.Lookups - lookups} lookups for 200 events in one known outside directory");
            }
        }

        [KernelFact]
        public void A_directory_written_in_outside_and_then_moved_in_is_watched_from_then_on()
        {
            Directory.CreateDirectory(Path.Combine(_out, "x/sub"));
            using (var w = WatchFanotify())
            {
                // Its directories are looked up (outside) and remembered so; moving in must forget that.
                File.WriteAllText(Path.Combine(_out, "x/sub/before"), "1");
                File.WriteAllText(S("tick"), "t");
                Assert.True(WaitFor(Is(ChangeType.Created, "tick")), Seen);
                Directory.Move(Path.Combine(_out, "x"), S("x"));
                Assert.True(WaitFor(Is(ChangeType.Created, "x")), Seen);
                Assert.True(_seen.Find(Is(ChangeType.Created, "x")).IsDirectory);
                File.WriteAllText(S("x/sub/after"), "2");
                Assert.True(WaitFor(Is(ChangeType.Created, "x/sub/after")), Seen);
                // And moved out again: its later events are not the tree's.
                Directory.Move(S("x"), Path.Combine(_out, "x2"));
                Assert.True(WaitFor(Is(ChangeType.Deleted, "x")), Seen);
                File.WriteAllText(Path.Combine(_out, "x2/sub/gone"), "3");
                Drain();
                Assert.DoesNotContain(_seen, c => c.RelativePath.EndsWith("gone"));
                Assert.Equal(new[] { "" }, Mapped(w));
            }
        }

        [KernelFact]
        public void A_directory_the_map_missed_is_looked_up_mapped_and_rescanned()
        {
            Directory.CreateDirectory(S("m/n"));
            using (var w = WatchFanotify())
            {
                w.Forget("m");
                File.WriteAllText(S("m/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "m/f")), Seen);
                // Nothing said what happened in it before: what it holds is compared whole.
                Assert.Contains(_seen, Is(ChangeType.Rescan, "m"));
                Assert.Contains("m", Mapped(w));
            }
        }

        [KernelFact]
        public void Another_filesystem_mounted_below_the_root_gets_its_own_filesystem_mark()
        {
            Directory.CreateDirectory(S("mnt"));
            if (!Mount("-t tmpfs rtm-test", S("mnt"))) return; // not permitted here: nothing to test
            Directory.CreateDirectory(S("mnt/inner"));
            using (var w = WatchFanotify())
            {
                Assert.Equal(2, w.MarkedFilesystems);
                Assert.Equal(3, Marks(w).Count);
                File.WriteAllText(S("mnt/inner/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "mnt/inner/f")), Seen);
                Directory.Move(S("mnt/inner"), S("mnt/renamed"));
                Assert.True(WaitForMove("mnt/renamed", "mnt/inner"), Seen);
                File.WriteAllText(S("top"), "y");
                Assert.True(WaitFor(Is(ChangeType.Created, "top")), Seen);
            }
        }

        [KernelFact]
        public void A_bind_mount_below_the_root_reports_changes_made_through_either_path()
        {
            var other = Path.Combine(_out, "other");
            Directory.CreateDirectory(other);
            Directory.CreateDirectory(S("bind"));
            if (!Mount("--bind " + Quote(other), S("bind"))) return; // not permitted here: nothing to test
            using (var w = WatchFanotify())
            {
                File.WriteAllText(S("bind/through-root"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "bind/through-root")), Seen);
                // The same directory, written through its other path: the handle is the same.
                File.WriteAllText(Path.Combine(other, "through-other"), "y");
                Assert.True(WaitFor(Is(ChangeType.Created, "bind/through-other")), Seen);
            }
        }

        [KernelFact]
        public void A_filesystem_that_cannot_be_marked_is_reported_once_and_rescanned_on_a_timer()
        {
            Directory.CreateDirectory(S("mnt"));
            if (!Mount("-t tmpfs rtm-test", S("mnt"))) return; // not permitted here: nothing to test
            Directory.CreateDirectory(S("mnt/a"));
            using (var w = WatchFanotify(configure: x =>
            {
                x.MarkFault = dir => dir.StartsWith("mnt") ? Errno.EOPNOTSUPP : 0;
                x.UnwatchedRescanInterval = TimeSpan.FromMilliseconds(300);
            }))
            {
                Assert.Single(_faults);
                Assert.Contains(S("mnt"), _faults.Single());
                Assert.Contains("rescan", _faults.Single());
                Assert.True(WaitFor(Is(ChangeType.Rescan, "mnt")), Seen);
                Assert.True(WaitFor(Is(ChangeType.Rescan, "mnt")), Seen);
                Assert.Single(_faults); // once per condition, not per retry
                File.WriteAllText(S("elsewhere"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "elsewhere")), Seen);
            }
        }

        [KernelFact]
        public void Unread_events_about_one_name_that_the_kernel_merges_still_end_in_the_right_state()
        {
            using (var w = WatchFanotify())
            {
                // Made, removed and made again before anything is read: the kernel may fold the first two into one
                // event (create+delete, no order); the object's handle keeps the third apart.
                w.PauseReader = true;
                System.Threading.Thread.Sleep(50);
                Directory.CreateDirectory(S("x"));
                Directory.Delete(S("x"));
                Directory.CreateDirectory(S("x/inner"));
                File.WriteAllText(S("f"), "1");
                File.Delete(S("f"));
                w.PauseReader = false;
                Assert.True(WaitFor(Is(ChangeType.Created, "x")), Seen);
                Drain();
                Assert.Equal(new[] { "", "x", "x/inner" }, Mapped(w));
                Assert.Contains(_seen, Is(ChangeType.Deleted, "f"));
                File.WriteAllText(S("x/inner/g"), "2");
                Assert.True(WaitFor(Is(ChangeType.Created, "x/inner/g")), Seen);
            }
        }

        [KernelFact]
        public void Start_MirrorWatch_style_request_for_Fanotify_is_honoured_and_explained()
        {
            using var watch = new MirrorWatch(1, new WatchOptions { Roots = new[] { _src }, Backend = WatchBackend.Fanotify });
            Assert.Equal("Fanotify", watch.Backend);
            Assert.StartsWith("Fanotify as asked", watch.BackendNote);
        }
    }
}
