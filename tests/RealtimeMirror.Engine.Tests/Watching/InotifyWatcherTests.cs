using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;
using RealtimeMirror.Engine.Watching;
using RealtimeMirror.Engine.Watching.Inotify;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Watching
{
    /// <summary>
    /// The inotify backend on real kernel events: the shared tests of KernelWatcherTestBase, and what only inotify
    /// has (cookie pairing, per-directory watches and their limit).
    /// </summary>
    public class InotifyWatcherTests : KernelWatcherTestBase
    {
        public InotifyWatcherTests() : base("rtm-inotify-") { }

        protected override WatchBackend Backend => WatchBackend.Inotify;
        protected override string QueueLimitFile => "/proc/sys/fs/inotify/max_queued_events";
        private protected override ITreeWatcher NewWatcher(GlobFilter exclude) => new InotifyWatcher(_src, exclude, _raw, _faults.Enqueue, null);
        private protected override void Pause(ITreeWatcher w, bool paused) => ((InotifyWatcher)w).PauseReader = paused;
        private protected override void FailOnce(ITreeWatcher w) => ((InotifyWatcher)w).FailOnce = true;
        private protected override List<string> Mapped(ITreeWatcher w) => ((InotifyWatcher)w).WatchedDirectories();

        private InotifyWatcher WatchInotify(GlobFilter exclude = null, Action<InotifyWatcher> configure = null)
        {
            var w = new InotifyWatcher(_src, exclude ?? GlobFilter.None, _raw, _faults.Enqueue, null);
            configure?.Invoke(w);
            w.Start();
            return w;
        }

        [KernelFact]
        public void Move_halves_with_other_records_between_them_are_paired_by_cookie()
        {
            Directory.CreateDirectory(S("a"));
            Directory.CreateDirectory(S("b"));
            Directory.CreateDirectory(S("c"));
            using var watches = InotifyWatches.Open(_src, GlobFilter.None, null);
            watches.WatchTree("");
            watches.Map.TryGetWd("a", out int a);
            watches.Map.TryGetWd("b", out int b);
            watches.Map.TryGetWd("c", out int c);
            var t = new InotifyTranslator(watches, GlobFilter.None, _raw);
            var now = DateTime.UtcNow;
            // Between the halves of a rename, other threads' records can land: any from a third directory, and
            // writes (not name changes) in the two directories themselves.
            foreach (var e in Records(
                (a, InotifyMask.IN_MOVED_FROM, 7u, "x"),
                (c, InotifyMask.IN_CREATE, 0u, "other"),
                (a, InotifyMask.IN_MODIFY, 0u, "y"),
                (b, InotifyMask.IN_MOVED_TO, 7u, "x2"),
                (a, InotifyMask.IN_MOVED_FROM | InotifyMask.IN_ISDIR, 9u, "dir"),
                (c, InotifyMask.IN_ATTRIB, 0u, "z"),
                (b, InotifyMask.IN_MOVED_TO | InotifyMask.IN_ISDIR, 9u, "dir2"),
                (a, InotifyMask.IN_MOVED_FROM, 11u, "gone"),
                (c, InotifyMask.IN_DELETE, 0u, "q"),
                (a, InotifyMask.IN_CREATE, 0u, "gone"))) // a name change in "a": "gone" left the tree
                t.Handle(e, now);
            t.FlushPendingMoves(now);
            var got = _raw.Select(x => x.ToString()).ToList();
            Assert.Equal(new[] { "Created c/other", "Changed a/y", "Renamed a/x -> b/x2", "AttributeChanged c/z", "Renamed a/dir -> b/dir2",
                "Deleted c/q", "Deleted a/gone", "Created a/gone" }, got);
            Assert.True(_raw.ElementAt(4).IsDirectory);
        }

        private static List<InotifyEvent> Records(params (int Wd, uint Mask, uint Cookie, string Name)[] records)
        {
            var buf = new List<byte>();
            foreach (var r in records)
            {
                var name = Encoding.UTF8.GetBytes(r.Name);
                int len = (name.Length + 1 + 15) / 16 * 16; // NUL-padded as the kernel does
                buf.AddRange(BitConverter.GetBytes(r.Wd));
                buf.AddRange(BitConverter.GetBytes(r.Mask));
                buf.AddRange(BitConverter.GetBytes(r.Cookie));
                buf.AddRange(BitConverter.GetBytes((uint)len));
                buf.AddRange(name);
                buf.AddRange(new byte[len - name.Length]);
            }
            var list = new List<InotifyEvent>();
            InotifyEvent.Parse(buf.ToArray(), buf.Count, list);
            Assert.Equal(records.Length, list.Count);
            return list;
        }

        [KernelFact]
        public void A_directory_the_kernel_will_not_watch_is_reported_once_and_rescanned_on_a_timer()
        {
            Directory.CreateDirectory(S("big/a"));
            Directory.CreateDirectory(S("big2"));
            bool full = true;
            using (var w = WatchInotify(configure: x =>
            {
                x.AddWatchFault = dir => full && dir.StartsWith("big") ? Errno.ENOSPC : 0;
                x.UnwatchedRescanInterval = TimeSpan.FromMilliseconds(300);
            }))
            {
                Assert.Single(_faults);
                Assert.Contains("sysctl fs.inotify.max_user_watches=", _faults.Single());
                Assert.True(WaitFor(Is(ChangeType.Rescan, "big")), Seen);
                Assert.True(WaitFor(Is(ChangeType.Rescan, "big2")) || _seen.Exists(Is(ChangeType.Rescan, "big2")), Seen);
                Assert.Single(_faults); // once per condition, not per retry
                // Once the limit is raised, the retry watches them.
                full = false;
                _seen.Clear();
                Assert.True(WaitFor(Is(ChangeType.Rescan, "big")));
                Drain(400);
                File.WriteAllText(S("big/a/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "big/a/f")), Seen);
            }
        }

        [Fact]
        public void Auto_prefers_fanotify_where_permitted_and_the_watch_says_which_backend_and_why()
        {
            var fanotify = WatcherFactory.FanotifyUnavailable(new[] { _src });
            var expected = !Linux ? "Portable" : fanotify == null ? "Fanotify" : "Inotify";
            using (var watch = new MirrorWatch(1, new WatchOptions { Roots = new[] { _src } }))
            {
                Assert.Equal(expected, watch.Backend);
                Assert.StartsWith("Auto: " + expected, watch.BackendNote);
                if (Linux && fanotify != null) Assert.Contains(fanotify, watch.BackendNote);
            }
            using (var watch = new MirrorWatch(2, new WatchOptions { Roots = new[] { _src }, Backend = WatchBackend.Portable }))
            {
                Assert.Equal("Portable", watch.Backend);
                Assert.StartsWith("Portable as asked", watch.BackendNote);
            }
            if (Linux && fanotify != null)
                Assert.Throws<PlatformNotSupportedException>(() => new MirrorWatch(3, new WatchOptions { Roots = new[] { _src }, Backend = WatchBackend.Fanotify }));
        }
    }
}
