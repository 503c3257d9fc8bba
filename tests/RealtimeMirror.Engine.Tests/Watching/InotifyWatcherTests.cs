using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;
using RealtimeMirror.Engine.Watching;
using RealtimeMirror.Engine.Watching.Inotify;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Watching
{
    /// <summary>The inotify backend on real kernel events (Linux only; elsewhere these tests return at once).</summary>
    public class InotifyWatcherTests : IDisposable
    {
        private readonly string _base = Path.Combine(Path.GetTempPath(), "rtm-inotify-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        private readonly string _src;
        private readonly string _out;
        private readonly ConcurrentQueue<RawChange> _raw = new ConcurrentQueue<RawChange>();
        private readonly List<RawChange> _seen = new List<RawChange>();
        private readonly ConcurrentQueue<string> _faults = new ConcurrentQueue<string>();

        public InotifyWatcherTests()
        {
            _src = Path.Combine(_base, "src");
            _out = Path.Combine(_base, "out");
            Directory.CreateDirectory(_src);
            Directory.CreateDirectory(_out);
        }

        public void Dispose()
        {
            try { Directory.Delete(_base, true); } catch (Exception) { }
        }

        private static bool Linux => OperatingSystem.IsLinux();

        private InotifyWatcher Watch(GlobFilter exclude = null, Action<InotifyWatcher> configure = null)
        {
            var w = new InotifyWatcher(_src, exclude ?? GlobFilter.None, _raw, _faults.Enqueue, null);
            configure?.Invoke(w);
            w.Start();
            return w;
        }

        private string S(string rel) => Path.Combine(_src, rel);

        /// <summary>Drains raw changes into _seen until one matches (true) or the time is up (false).</summary>
        private bool WaitFor(Predicate<RawChange> wanted, double seconds = 5)
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed.TotalSeconds < seconds)
            {
                while (_raw.TryDequeue(out var c))
                {
                    _seen.Add(c);
                    if (wanted(c)) return true;
                }
                Thread.Sleep(5);
            }
            return false;
        }

        /// <summary>Collects whatever arrives within a quiet moment.</summary>
        private void Drain(int ms = 300)
        {
            Thread.Sleep(ms);
            while (_raw.TryDequeue(out var c)) _seen.Add(c);
        }

        private static Predicate<RawChange> Is(ChangeType kind, string path, string old = null) =>
            c => c.Kind == kind && c.RelativePath == path && (old == null || c.OldRelativePath == old);

        private string Seen => string.Join("; ", _seen);

        [Fact]
        public void Moving_a_directory_out_writing_in_it_and_moving_one_back_in_keeps_reporting()
        {
            if (!Linux) return;
            Directory.CreateDirectory(S("d0/d1"));
            File.WriteAllText(S("d0/d1/f"), "x");
            Directory.CreateDirectory(S("d2"));
            Directory.CreateDirectory(S("d3/sub"));
            using (var w = Watch())
            {
                // The sequence that silenced FileSystemWatcher: mv src/d0 out/out1; echo x >> out/out1/d1/f;
                // mv src/d3 out/out2; mv out/out1 src/d2/back3
                Directory.Move(S("d0"), Path.Combine(_out, "out1"));
                File.AppendAllText(Path.Combine(_out, "out1/d1/f"), "x");
                Directory.Move(S("d3"), Path.Combine(_out, "out2"));
                Directory.Move(Path.Combine(_out, "out1"), S("d2/back3"));

                Assert.True(WaitFor(Is(ChangeType.Created, "d2/back3")), Seen);
                Assert.True(WaitFor(c => c.Kind == ChangeType.Deleted && c.RelativePath == "d3" && c.IsDirectory == true), Seen);
                Assert.Contains(_seen, Is(ChangeType.Deleted, "d0"));
                Assert.True(_seen.Find(Is(ChangeType.Created, "d2/back3")).IsDirectory);

                // Later events from the rest of the tree still arrive, and the moved-in subtree is watched.
                File.WriteAllText(S("after.txt"), "y");
                Assert.True(WaitFor(Is(ChangeType.Created, "after.txt")), Seen);
                File.AppendAllText(S("d2/back3/d1/f"), "z");
                Assert.True(WaitFor(Is(ChangeType.Changed, "d2/back3/d1/f")), Seen);

                // The moved-away directories' watches are gone, so the map holds only paths of the tree.
                Drain();
                Assert.Equal(new[] { "", "d2", "d2/back3", "d2/back3/d1" }, w.WatchedDirectories());
                // Writing in a directory that left the tree reports nothing under its old path.
                _seen.Clear();
                File.WriteAllText(Path.Combine(_out, "out2/sub/late"), "q");
                Drain();
                Assert.DoesNotContain(_seen, c => c.RelativePath.StartsWith("d3"));
            }
        }

        [Fact]
        public void A_directory_renamed_inside_the_tree_reports_its_files_under_the_new_path()
        {
            if (!Linux) return;
            Directory.CreateDirectory(S("a/b/c"));
            using (var w = Watch())
            {
                Directory.Move(S("a"), S("z"));
                Assert.True(WaitFor(Is(ChangeType.Renamed, "z", "a")), Seen);
                File.WriteAllText(S("z/b/c/new"), "1");
                Assert.True(WaitFor(Is(ChangeType.Created, "z/b/c/new")), Seen);
                Assert.Equal(new[] { "", "z", "z/b", "z/b/c" }, w.WatchedDirectories());
            }
        }

        [Fact]
        public void Cross_directory_moves_are_paired_by_cookie()
        {
            if (!Linux) return;
            Directory.CreateDirectory(S("a"));
            Directory.CreateDirectory(S("b"));
            for (int i = 0; i < 20; i++) File.WriteAllText(S($"a/f{i}"), "x");
            using (Watch())
            {
                // Another thread writes all the while, so other records land among the move halves.
                using var stop = new CancellationTokenSource();
                var noise = new Thread(() => { int n = 0; while (!stop.IsCancellationRequested) File.WriteAllText(S($"noise{n++ % 5}"), "n"); });
                noise.Start();
                for (int i = 0; i < 20; i++) File.Move(S($"a/f{i}"), S($"b/g{i}"));
                stop.Cancel();
                noise.Join();
                Assert.True(WaitFor(Is(ChangeType.Renamed, "b/g19", "a/f19")), Seen);
                Drain();
                for (int i = 0; i < 20; i++) Assert.Contains(_seen, Is(ChangeType.Renamed, $"b/g{i}", $"a/f{i}"));
                Assert.DoesNotContain(_seen, c => c.Kind == ChangeType.Deleted && c.RelativePath.StartsWith("a/f"));
            }
        }

        [Fact]
        public void Move_halves_with_other_records_between_them_are_paired_by_cookie()
        {
            if (!Linux) return;
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

        [Fact]
        public void A_name_that_is_not_UTF8_is_reported_exactly()
        {
            if (!Linux) return;
            using (Watch())
            {
                var nameBytes = new byte[] { (byte)'c', (byte)'a', (byte)'f', 0xE9 };
                var path = PathEncoding.ToBytes(_src).Concat(new[] { (byte)'/' }).Concat(nameBytes).Concat(new byte[] { 0 }).ToArray();
                int fd = LibC.open(path, Flags.O_WRONLY | Flags.O_CREAT | Flags.O_CLOEXEC, 0x1A4);
                Assert.True(fd >= 0);
                LibC.close(fd);
                Assert.True(WaitFor(c => c.Kind == ChangeType.Created), Seen);
                var created = _seen.First(c => c.Kind == ChangeType.Created);
                Assert.Equal(nameBytes, PathEncoding.ToBytes(created.RelativePath));
                Assert.Equal("caf\uDCE9", created.RelativePath);
                Assert.False(created.IsDirectory);
            }
        }

        [Fact]
        public void Chmod_of_a_file_is_an_attribute_change()
        {
            if (!Linux) return;
            File.WriteAllText(S("f"), "x");
            using (Watch())
            {
                File.SetUnixFileMode(S("f"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                Assert.True(WaitFor(Is(ChangeType.AttributeChanged, "f")), Seen);
                Drain(100);
                Assert.DoesNotContain(_seen, Is(ChangeType.Changed, "f")); // chmod is not a write
            }
        }

        [Fact]
        public void Closing_a_file_opened_for_writing_is_a_change()
        {
            if (!Linux) return;
            File.WriteAllText(S("f"), "x");
            using (Watch())
            {
                // Opened for writing and closed without a write: only IN_CLOSE_WRITE says so.
                int fd = LibC.open(PathEncoding.ToCString(S("f")), Flags.O_WRONLY | Flags.O_CLOEXEC, 0);
                Assert.True(fd >= 0);
                LibC.close(fd);
                Assert.True(WaitFor(Is(ChangeType.Changed, "f")), Seen);
            }
        }

        [Fact]
        public void A_new_directory_is_reported_as_a_directory_and_its_subdirectories_are_watched()
        {
            if (!Linux) return;
            Directory.CreateDirectory(S("dir"));
            using (var w = Watch())
            {
                File.WriteAllText(S("file"), "x");
                Directory.CreateDirectory(S("newdir"));
                // Made elsewhere and moved in whole: nothing inside gave events, all of it must be watched.
                Directory.CreateDirectory(Path.Combine(_out, "tree/x/y"));
                Directory.Move(Path.Combine(_out, "tree"), S("dir/tree"));
                Assert.True(WaitFor(Is(ChangeType.Created, "dir/tree")), Seen);
                Assert.False(_seen.Find(Is(ChangeType.Created, "file")).IsDirectory);
                Assert.True(_seen.Find(Is(ChangeType.Created, "newdir")).IsDirectory);
                Assert.True(_seen.Find(Is(ChangeType.Created, "dir/tree")).IsDirectory);
                File.WriteAllText(S("dir/tree/x/y/deep"), "d");
                Assert.True(WaitFor(Is(ChangeType.Created, "dir/tree/x/y/deep")), Seen);
                // A directory made inside a new one before its watch existed is found by listing it.
                Directory.CreateDirectory(S("newdir/a/b/c"));
                File.WriteAllText(S("newdir/a/b/c/f"), "f");
                Drain();
                File.WriteAllText(S("newdir/a/b/c/g"), "g");
                Assert.True(WaitFor(Is(ChangeType.Created, "newdir/a/b/c/g")), Seen);
            }
        }

        [Fact]
        public void A_real_queue_overflow_becomes_a_Rescan_of_the_root_and_is_counted()
        {
            if (!Linux) return;
            int limit = int.Parse(File.ReadAllText("/proc/sys/fs/inotify/max_queued_events").Trim());
            if (limit > 200_000) return; // too many files to make here
            using (var w = Watch())
            {
                w.PauseReader = true;
                Thread.Sleep(50);
                for (int i = 0; i < limit + 1000; i++) File.WriteAllBytes(S("f" + i), Array.Empty<byte>());
                w.PauseReader = false;
                Assert.True(WaitFor(Is(ChangeType.Rescan, ""), 20), $"{_seen.Count} changes, no Rescan");
                Assert.True(w.Overflows > 0);
                Assert.Contains(_faults, f => f.Contains("overflow"));
                // And it keeps reporting after.
                Directory.CreateDirectory(S("later"));
                Assert.True(WaitFor(Is(ChangeType.Created, "later"), 20));
            }
        }

        [Fact]
        public void The_root_moved_away_and_back_is_reported_as_a_fault_and_watched_again()
        {
            if (!Linux) return;
            Directory.CreateDirectory(S("d"));
            using (var w = Watch())
            {
                var away = Path.Combine(_out, "away");
                Directory.Move(_src, away);
                var sw = Stopwatch.StartNew();
                while (!_faults.Any(f => f.Contains("was moved")) && sw.Elapsed.TotalSeconds < 5) Thread.Sleep(10);
                Assert.Contains(_faults, f => f.Contains("was moved") && f.Contains(_src));
                Directory.Move(away, _src);
                Assert.True(WaitFor(Is(ChangeType.Rescan, "")), Seen);
                File.WriteAllText(S("d/back"), "b");
                Assert.True(WaitFor(Is(ChangeType.Created, "d/back")), Seen);
                Assert.DoesNotContain(_seen, c => c.RelativePath == "" && c.Kind == ChangeType.Deleted);
            }
        }

        [Fact]
        public void Renames_across_an_exclusion_are_a_create_or_a_delete()
        {
            if (!Linux) return;
            File.WriteAllText(S("doc.tmp"), "x");
            File.WriteAllText(S("old"), "x");
            using (Watch(new GlobFilter(new[] { "*.tmp" })))
            {
                File.Move(S("doc.tmp"), S("doc"));
                File.Move(S("old"), S("old.tmp"));
                File.WriteAllText(S("ignored.tmp"), "x");
                Assert.True(WaitFor(Is(ChangeType.Deleted, "old")), Seen);
                Assert.Contains(_seen, Is(ChangeType.Created, "doc"));
                Drain(100);
                Assert.DoesNotContain(_seen, c => c.RelativePath.EndsWith(".tmp") || c.Kind == ChangeType.Renamed);
            }
        }

        [Fact]
        public void An_excluded_directory_is_not_watched_until_it_is_renamed_to_a_kept_name()
        {
            if (!Linux) return;
            Directory.CreateDirectory(S("cache.tmp/inner"));
            using (var w = Watch(new GlobFilter(new[] { "*.tmp" })))
            {
                Assert.Equal(new[] { "" }, w.WatchedDirectories());
                Directory.Move(S("cache.tmp"), S("cache"));
                Assert.True(WaitFor(Is(ChangeType.Created, "cache")), Seen);
                File.WriteAllText(S("cache/inner/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "cache/inner/f")), Seen);
                Directory.Move(S("cache"), S("again.tmp"));
                Assert.True(WaitFor(Is(ChangeType.Deleted, "cache")), Seen);
                Drain(100);
                Assert.Equal(new[] { "" }, w.WatchedDirectories());
            }
        }

        [Fact]
        public void A_watch_whose_root_is_removed_and_made_again_reports_again()
        {
            if (!Linux) return;
            using (var watch = new MirrorWatch(1, new WatchOptions { Roots = new[] { _src }, Settle = TimeSpan.FromMilliseconds(10) }))
            {
                watch.Start();
                Directory.Delete(_src, true);
                var sw = Stopwatch.StartNew();
                while (watch.State != WatchState.Faulted && sw.Elapsed.TotalSeconds < 5) Thread.Sleep(20);
                Assert.Equal(WatchState.Faulted, watch.State);
                Directory.CreateDirectory(_src);
                while (watch.State != WatchState.Running && sw.Elapsed.TotalSeconds < 10) Thread.Sleep(20);
                Assert.Equal(WatchState.Running, watch.State);
                bool reported = false;
                for (int i = 0; i < 20 && !reported; i++)
                {
                    File.WriteAllText(S($"back{i}"), "x");
                    var until = DateTime.UtcNow.AddSeconds(0.5);
                    while (!reported && DateTime.UtcNow < until && watch.TryTake(out var e, 100, CancellationToken.None))
                    {
                        Assert.False(e.ChangeType == ChangeType.Deleted && e.RelativePath == "");
                        reported = e.ChangeType == ChangeType.Created && e.RelativePath.StartsWith("back");
                    }
                }
                Assert.True(reported);
            }
        }

        [Fact]
        public void A_directory_the_kernel_will_not_watch_is_reported_once_and_rescanned_on_a_timer()
        {
            if (!Linux) return;
            Directory.CreateDirectory(S("big/a"));
            Directory.CreateDirectory(S("big2"));
            bool full = true;
            using (var w = Watch(configure: x =>
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
        public void A_failed_reader_is_reported_rescans_and_watches_again()
        {
            if (!Linux) return;
            Directory.CreateDirectory(S("d"));
            using (var w = Watch())
            {
                w.FailOnce = true;
                Assert.True(WaitFor(Is(ChangeType.Rescan, "")), Seen);
                Assert.Contains(_faults, f => f.Contains("reader failed"));
                File.WriteAllText(S("d/after"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "d/after")), Seen);
            }
        }

        [Fact]
        public void A_directory_renamed_before_its_creation_was_read_is_watched_at_its_new_name()
        {
            if (!Linux) return;
            using (var w = Watch())
            {
                // Unpacked into a staging directory and renamed into place faster than the records are read: by the
                // time "stage" is read as created it is not there to watch; its rename must still get it watched.
                w.PauseReader = true;
                Thread.Sleep(50);
                Directory.CreateDirectory(S("stage/sub"));
                Directory.Move(S("stage"), S("pkg"));
                w.PauseReader = false;
                Assert.True(WaitFor(Is(ChangeType.Renamed, "pkg", "stage")), Seen);
                Drain(100);
                File.WriteAllText(S("pkg/sub/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "pkg/sub/f")), Seen);
                Assert.Equal(new[] { "", "pkg", "pkg/sub" }, w.WatchedDirectories());
            }
        }

        [Fact]
        public void A_subdirectory_made_just_before_its_parent_was_renamed_is_watched_at_its_new_place()
        {
            if (!Linux) return;
            Directory.CreateDirectory(S("stage"));
            using (var w = Watch())
            {
                w.PauseReader = true;
                Thread.Sleep(50);
                Directory.CreateDirectory(S("stage/pkg/deep"));
                Directory.Move(S("stage"), S("final"));
                w.PauseReader = false;
                Assert.True(WaitFor(Is(ChangeType.Renamed, "final", "stage")), Seen);
                Drain(100);
                File.WriteAllText(S("final/pkg/deep/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "final/pkg/deep/f")), Seen);
                Assert.Equal(new[] { "", "final", "final/pkg", "final/pkg/deep" }, w.WatchedDirectories());
            }
        }

        [Fact]
        public void A_directory_renamed_and_replaced_by_a_new_one_of_its_old_name_before_it_was_read_keeps_both_watched()
        {
            if (!Linux) return;
            Directory.CreateDirectory(S("a"));
            using (var w = Watch())
            {
                w.PauseReader = true;
                Thread.Sleep(50);
                Directory.CreateDirectory(S("a/x"));
                Directory.Move(S("a/x"), S("a/y"));
                Directory.CreateDirectory(S("a/x"));
                w.PauseReader = false;
                Assert.True(WaitFor(Is(ChangeType.Renamed, "a/y", "a/x")), Seen);
                Drain(100);
                File.WriteAllText(S("a/y/f"), "1");
                File.WriteAllText(S("a/x/g"), "2");
                Assert.True(WaitFor(Is(ChangeType.Created, "a/y/f")), Seen);
                Assert.True(WaitFor(Is(ChangeType.Created, "a/x/g")) || _seen.Exists(Is(ChangeType.Created, "a/x/g")), Seen);
                Assert.Equal(new[] { "", "a", "a/x", "a/y" }, w.WatchedDirectories());
            }
        }

        [Fact]
        public void A_directory_moved_out_and_another_moved_in_under_its_name_within_one_read_are_both_handled()
        {
            if (!Linux) return;
            Directory.CreateDirectory(S("a/x/old"));
            Directory.CreateDirectory(Path.Combine(_out, "other/new"));
            using (var w = Watch())
            {
                w.PauseReader = true;
                Thread.Sleep(50);
                Directory.Move(S("a/x"), Path.Combine(_out, "x1"));
                Directory.Move(Path.Combine(_out, "other"), S("a/x"));
                w.PauseReader = false;
                Assert.True(WaitFor(Is(ChangeType.Created, "a/x")), Seen);
                Assert.Contains(_seen, Is(ChangeType.Deleted, "a/x")); // reported first: the kernel's order is kept
                Drain(100);
                Assert.Equal(new[] { "", "a", "a/x", "a/x/new" }, w.WatchedDirectories());
                File.WriteAllText(S("a/x/new/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "a/x/new/f")), Seen);
            }
        }

        [Fact]
        public void Dispose_stops_the_reader_promptly()
        {
            if (!Linux) return;
            var w = Watch();
            Thread.Sleep(50);
            var sw = Stopwatch.StartNew();
            w.Dispose();
            Assert.True(sw.ElapsedMilliseconds < 500, $"{sw.ElapsedMilliseconds} ms");
        }

        [Fact]
        public void Auto_is_inotify_on_Linux_and_the_watch_says_which_backend_it_uses()
        {
            var expected = Linux ? "Inotify" : "Portable";
            using (var watch = new MirrorWatch(1, new WatchOptions { Roots = new[] { _src } }))
                Assert.Equal(expected, watch.Backend);
            using (var watch = new MirrorWatch(2, new WatchOptions { Roots = new[] { _src }, Backend = WatchBackend.Portable }))
                Assert.Equal("Portable", watch.Backend);
        }
    }
}
