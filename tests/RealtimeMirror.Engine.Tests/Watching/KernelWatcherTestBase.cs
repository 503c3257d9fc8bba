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
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace RealtimeMirror.Engine.Tests.Watching
{
    /// <summary>
    /// A source and an outside directory in a fresh temp folder, a sink for raw changes and one for faults, and the
    /// helpers that wait for what a watcher reports there.
    /// </summary>
    public abstract class KernelWatcherFixture : IDisposable
    {
        protected readonly string _base;
        protected readonly string _src;
        protected readonly string _out;
        protected readonly ConcurrentQueue<RawChange> _raw = new ConcurrentQueue<RawChange>();
        protected readonly List<RawChange> _seen = new List<RawChange>();
        protected readonly ConcurrentQueue<string> _faults = new ConcurrentQueue<string>();

        protected KernelWatcherFixture(string prefix)
        {
            _base = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N").Substring(0, 8));
            _src = Path.Combine(_base, "src");
            _out = Path.Combine(_base, "out");
            Directory.CreateDirectory(_src);
            Directory.CreateDirectory(_out);
        }

        public virtual void Dispose()
        {
            try { Directory.Delete(_base, true); } catch (Exception) { }
        }

        protected static bool Linux => OperatingSystem.IsLinux();

        protected string S(string rel) => Path.Combine(_src, rel);

        /// <summary>Drains raw changes into _seen until one matches (true) or the time is up (false).</summary>
        protected bool WaitFor(Predicate<RawChange> wanted, double seconds = 5)
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
        protected void Drain(int ms = 300)
        {
            Thread.Sleep(ms);
            while (_raw.TryDequeue(out var c)) _seen.Add(c);
        }

        protected static Predicate<RawChange> Is(ChangeType kind, string path, string old = null) =>
            c => c.Kind == kind && c.RelativePath == path && (old == null || c.OldRelativePath == old);

        protected string Seen => string.Join("; ", _seen);
    }

    /// <summary>
    /// What every kernel backend (inotify, fanotify) must do, on real kernel events: each [KernelFact] here runs
    /// once per derived class, and is reported as skipped, with the reason, where that backend is not available.
    /// </summary>
    public abstract class KernelWatcherTestBase : KernelWatcherFixture
    {
        protected KernelWatcherTestBase(string prefix) : base(prefix) { }

        /// <summary>The backend under test, for the MirrorWatch-level tests.</summary>
        protected abstract WatchBackend Backend { get; }
        /// <summary>/proc/sys/fs/.../max_queued_events of the backend's kernel queue.</summary>
        protected abstract string QueueLimitFile { get; }
        private protected abstract ITreeWatcher NewWatcher(GlobFilter exclude);
        private protected abstract void Pause(ITreeWatcher w, bool paused);
        private protected abstract void FailOnce(ITreeWatcher w);
        /// <summary>The directories the backend knows by path now, sorted.</summary>
        private protected abstract List<string> Mapped(ITreeWatcher w);

        /// <summary>Why a test class cannot run here (the [KernelFact] discoverer asks), or null.</summary>
        public static string SkipReasonFor(Type testClass)
        {
            if (!Linux) return "kernel watch backends exist only on Linux";
            if (typeof(FanotifyWatcherTests).IsAssignableFrom(testClass))
            {
                var why = WatcherFactory.FanotifyUnavailable(new[] { Path.GetTempPath() });
                if (why != null) return "fanotify is not available here: " + why;
            }
            return null;
        }

        private protected ITreeWatcher Watch(GlobFilter exclude = null)
        {
            var w = NewWatcher(exclude ?? GlobFilter.None);
            w.Start();
            return w;
        }

        /// <summary>Does what the test says while the reader reads nothing, so the kernel queues it all unread.</summary>
        private protected void WhileUnread(ITreeWatcher w, Action act)
        {
            Pause(w, true);
            Thread.Sleep(50);
            act();
            Pause(w, false);
        }

        /// <summary>
        /// Whether the backend reports a move inside the tree as one Renamed. Fanotify before Linux 5.17 cannot (no
        /// FAN_RENAME): it reports a Deleted of the old name and a Created of the new one, which the planner turns
        /// into the same replica (by content instead of by rename).
        /// </summary>
        protected virtual bool PairsMoves => true;

        /// <summary>Waits for the hints of a move (see <see cref="PairsMoves"/>), looking at what was seen already first.</summary>
        protected bool WaitForMove(string to, string from, double seconds = 5)
        {
            if (PairsMoves) return _seen.Exists(Is(ChangeType.Renamed, to, from)) || WaitFor(Is(ChangeType.Renamed, to, from), seconds);
            Predicate<RawChange> left = Is(ChangeType.Deleted, from), came = Is(ChangeType.Created, to);
            return (_seen.Exists(left) || WaitFor(left, seconds)) && (_seen.Exists(came) || WaitFor(came, seconds));
        }

        [KernelFact]
        public void Moving_a_directory_out_writing_in_it_and_moving_one_back_in_keeps_reporting()
        {
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
                Predicate<RawChange> d3Left = c => c.Kind == ChangeType.Deleted && c.RelativePath == "d3" && c.IsDirectory == true;
                Assert.True(_seen.Exists(d3Left) || WaitFor(d3Left), Seen); // before or after the move in: either order is right
                Assert.Contains(_seen, Is(ChangeType.Deleted, "d0"));
                Assert.True(_seen.Find(Is(ChangeType.Created, "d2/back3")).IsDirectory);

                // Later events from the rest of the tree still arrive, and the moved-in subtree is watched.
                File.WriteAllText(S("after.txt"), "y");
                Assert.True(WaitFor(Is(ChangeType.Created, "after.txt")), Seen);
                File.AppendAllText(S("d2/back3/d1/f"), "z");
                Assert.True(WaitFor(Is(ChangeType.Changed, "d2/back3/d1/f")), Seen);

                // The moved-away directories' watches are gone, so the map holds only paths of the tree.
                Drain();
                Assert.Equal(new[] { "", "d2", "d2/back3", "d2/back3/d1" }, Mapped(w));
                // Writing in a directory that left the tree reports nothing under its old path.
                _seen.Clear();
                File.WriteAllText(Path.Combine(_out, "out2/sub/late"), "q");
                Drain();
                Assert.DoesNotContain(_seen, c => c.RelativePath.StartsWith("d3"));
            }
        }

        [KernelFact]
        public void A_directory_renamed_inside_the_tree_reports_its_files_under_the_new_path()
        {
            Directory.CreateDirectory(S("a/b/c"));
            using (var w = Watch())
            {
                Directory.Move(S("a"), S("z"));
                Assert.True(WaitForMove("z", "a"), Seen);
                File.WriteAllText(S("z/b/c/new"), "1");
                Assert.True(WaitFor(Is(ChangeType.Created, "z/b/c/new")), Seen);
                Assert.Equal(new[] { "", "z", "z/b", "z/b/c" }, Mapped(w));
            }
        }

        [KernelFact]
        public void Cross_directory_moves_with_other_events_between_them_are_renames()
        {
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
                Assert.True(WaitForMove("b/g19", "a/f19"), Seen);
                Drain();
                for (int i = 0; i < 20; i++) Assert.True(WaitForMove($"b/g{i}", $"a/f{i}", 0), Seen);
                if (PairsMoves) Assert.DoesNotContain(_seen, c => c.Kind == ChangeType.Deleted && c.RelativePath.StartsWith("a/f"));
            }
        }

        [KernelFact]
        public void A_name_that_is_not_UTF8_is_reported_exactly()
        {
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

        [KernelFact]
        public void Chmod_of_a_file_is_an_attribute_change()
        {
            File.WriteAllText(S("f"), "x");
            using (Watch())
            {
                File.SetUnixFileMode(S("f"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                Assert.True(WaitFor(Is(ChangeType.AttributeChanged, "f")), Seen);
                Drain(100);
                Assert.DoesNotContain(_seen, Is(ChangeType.Changed, "f")); // chmod is not a write
            }
        }

        [KernelFact]
        public void Closing_a_file_opened_for_writing_is_a_change()
        {
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

        [KernelFact]
        public void A_new_directory_is_reported_as_a_directory_and_its_subdirectories_are_watched()
        {
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

        [KernelFact]
        public void A_real_queue_overflow_becomes_a_Rescan_of_the_root_and_is_counted()
        {
            int limit = int.Parse(File.ReadAllText(QueueLimitFile).Trim());
            if (limit > 200_000) return; // too many files to make here
            using (var w = Watch())
            {
                WhileUnread(w, () =>
                {
                    for (int i = 0; i < limit + 1000; i++) File.WriteAllBytes(S("f" + i), Array.Empty<byte>());
                });
                Assert.True(WaitFor(Is(ChangeType.Rescan, ""), 20), $"{_seen.Count} changes, no Rescan");
                // Counted and said right after the read that held the overflow, so a moment after its Rescan.
                Assert.True(SpinWait.SpinUntil(() => w.Overflows > 0, 5000));
                Assert.True(SpinWait.SpinUntil(() => _faults.Any(f => f.Contains("overflow")), 5000), string.Join("\n", _faults));
                // And it keeps reporting after.
                Directory.CreateDirectory(S("later"));
                Assert.True(WaitFor(Is(ChangeType.Created, "later"), 20));
            }
        }

        [KernelFact]
        public void The_root_moved_away_and_back_is_reported_as_a_fault_and_watched_again()
        {
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

        [KernelFact]
        public void Renames_across_an_exclusion_are_a_create_or_a_delete()
        {
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

        [KernelFact]
        public void An_excluded_directory_is_not_watched_until_it_is_renamed_to_a_kept_name()
        {
            Directory.CreateDirectory(S("cache.tmp/inner"));
            using (var w = Watch(new GlobFilter(new[] { "*.tmp" })))
            {
                Assert.Equal(new[] { "" }, Mapped(w));
                Directory.Move(S("cache.tmp"), S("cache"));
                Assert.True(WaitFor(Is(ChangeType.Created, "cache")), Seen);
                File.WriteAllText(S("cache/inner/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "cache/inner/f")), Seen);
                Directory.Move(S("cache"), S("again.tmp"));
                Assert.True(WaitFor(Is(ChangeType.Deleted, "cache")), Seen);
                Drain(100);
                Assert.Equal(new[] { "" }, Mapped(w));
            }
        }

        [KernelFact]
        public void A_watch_whose_root_is_removed_and_made_again_reports_again()
        {
            using (var watch = new MirrorWatch(1, new WatchOptions { Roots = new[] { _src }, Backend = Backend, Settle = TimeSpan.FromMilliseconds(10) }))
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

        [KernelFact]
        public void A_failed_reader_is_reported_rescans_and_watches_again()
        {
            Directory.CreateDirectory(S("d"));
            using (var w = Watch())
            {
                FailOnce(w);
                Assert.True(WaitFor(Is(ChangeType.Rescan, "")), Seen);
                Assert.Contains(_faults, f => f.Contains("reader failed"));
                File.WriteAllText(S("d/after"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "d/after")), Seen);
            }
        }

        [KernelFact]
        public void A_directory_renamed_before_its_creation_was_read_is_watched_at_its_new_name()
        {
            using (var w = Watch())
            {
                // Unpacked into a staging directory and renamed into place faster than the records are read: by the
                // time "stage" is read as created it is not there to watch; its rename must still get it watched.
                WhileUnread(w, () =>
                {
                    Directory.CreateDirectory(S("stage/sub"));
                    Directory.Move(S("stage"), S("pkg"));
                });
                Assert.True(WaitForMove("pkg", "stage"), Seen);
                Drain(100);
                File.WriteAllText(S("pkg/sub/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "pkg/sub/f")), Seen);
                Assert.Equal(new[] { "", "pkg", "pkg/sub" }, Mapped(w));
            }
        }

        [KernelFact]
        public void A_directory_with_content_renamed_twice_before_it_was_read_is_watched_at_its_last_name()
        {
            Directory.CreateDirectory(S("a/sub/deep"));
            File.WriteAllText(S("a/sub/f"), "x");
            using (var w = Watch())
            {
                // The middle name is both arrived at and left in one unread stretch: fanotify merges the two events of
                // that name into one, and without FAN_RENAME nothing ties either move to the directory.
                WhileUnread(w, () =>
                {
                    File.AppendAllText(S("a/sub/f"), "y");
                    Directory.Move(S("a"), S("b"));
                    Directory.Move(S("b"), S("c"));
                });
                Assert.True(WaitForMove("c", "b"), Seen);
                Drain(100);
                File.WriteAllText(S("c/sub/deep/g"), "z");
                Assert.True(WaitFor(Is(ChangeType.Created, "c/sub/deep/g")), Seen);
                Assert.Equal(new[] { "", "c", "c/sub", "c/sub/deep" }, Mapped(w));
            }
        }

        [KernelFact]
        public void A_subdirectory_made_just_before_its_parent_was_renamed_is_watched_at_its_new_place()
        {
            Directory.CreateDirectory(S("stage"));
            using (var w = Watch())
            {
                WhileUnread(w, () =>
                {
                    Directory.CreateDirectory(S("stage/pkg/deep"));
                    Directory.Move(S("stage"), S("final"));
                });
                Assert.True(WaitForMove("final", "stage"), Seen);
                Drain(100);
                File.WriteAllText(S("final/pkg/deep/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "final/pkg/deep/f")), Seen);
                Assert.Equal(new[] { "", "final", "final/pkg", "final/pkg/deep" }, Mapped(w));
            }
        }

        [KernelFact]
        public void A_directory_renamed_and_replaced_by_a_new_one_of_its_old_name_before_it_was_read_keeps_both_watched()
        {
            Directory.CreateDirectory(S("a"));
            using (var w = Watch())
            {
                WhileUnread(w, () =>
                {
                    Directory.CreateDirectory(S("a/x"));
                    Directory.Move(S("a/x"), S("a/y"));
                    Directory.CreateDirectory(S("a/x"));
                });
                Assert.True(WaitForMove("a/y", "a/x"), Seen);
                Drain(100);
                File.WriteAllText(S("a/y/f"), "1");
                File.WriteAllText(S("a/x/g"), "2");
                Assert.True(WaitFor(Is(ChangeType.Created, "a/y/f")), Seen);
                Assert.True(WaitFor(Is(ChangeType.Created, "a/x/g")) || _seen.Exists(Is(ChangeType.Created, "a/x/g")), Seen);
                Assert.Equal(new[] { "", "a", "a/x", "a/y" }, Mapped(w));
            }
        }

        [KernelFact]
        public void A_directory_moved_out_and_another_moved_in_under_its_name_within_one_read_are_both_handled()
        {
            Directory.CreateDirectory(S("a/x/old"));
            Directory.CreateDirectory(Path.Combine(_out, "other/new"));
            using (var w = Watch())
            {
                WhileUnread(w, () =>
                {
                    Directory.Move(S("a/x"), Path.Combine(_out, "x1"));
                    Directory.Move(Path.Combine(_out, "other"), S("a/x"));
                });
                Assert.True(WaitFor(Is(ChangeType.Created, "a/x")), Seen);
                Assert.Contains(_seen, Is(ChangeType.Deleted, "a/x")); // reported first: the kernel's order is kept
                Drain(100);
                Assert.Equal(new[] { "", "a", "a/x", "a/x/new" }, Mapped(w));
                File.WriteAllText(S("a/x/new/f"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "a/x/new/f")), Seen);
            }
        }

        [KernelFact]
        public void Dispose_stops_the_reader_promptly()
        {
            var w = Watch();
            Thread.Sleep(50);
            var sw = Stopwatch.StartNew();
            w.Dispose();
            Assert.True(sw.ElapsedMilliseconds < 500, $"{sw.ElapsedMilliseconds} ms");
        }

        [KernelFact]
        public void A_closed_write_is_emitted_without_waiting_for_the_settle_window()
        {
            // A settle window and maximum delay far longer than the wait: only the close-write can let it through.
            using var watch = new MirrorWatch(1, new WatchOptions
            {
                Roots = new[] { _src }, Backend = Backend, Settle = TimeSpan.FromSeconds(60), MaxDelay = TimeSpan.FromSeconds(120),
            });
            watch.Start();
            Assert.Equal(Backend.ToString(), watch.Backend);
            File.WriteAllText(S("written"), "done");
            bool seen = false;
            var sw = Stopwatch.StartNew();
            while (!seen && sw.Elapsed.TotalSeconds < 10)
                if (watch.TryTake(out var e, 200, CancellationToken.None)) seen = e.RelativePath == "written";
            Assert.True(seen, "no event within 10 s although the settle window is 60 s");
        }

        [KernelFact]
        public void A_write_without_a_close_waits_for_the_settle_window_and_a_writer_that_never_pauses_for_the_maximum_delay()
        {
            File.WriteAllText(S("held"), "");
            File.WriteAllText(S("busy"), "");
            using var watch = new MirrorWatch(1, new WatchOptions
            {
                Roots = new[] { _src }, Backend = Backend, Settle = TimeSpan.FromMilliseconds(500), MaxDelay = TimeSpan.FromMilliseconds(1500),
            });
            watch.Start();
            // Written and held open: no close says the writer is done, so only a quiet settle window lets it out.
            using (var held = new FileStream(S("held"), FileMode.Open, FileAccess.Write))
            {
                held.Write(new byte[] { 1 });
                held.Flush();
                var first = FirstEventOf(watch, "held", 5);
                Assert.True(first != null, "no event for a written file within 5 s");
                Assert.True(first.Value.TotalMilliseconds >= 400, $"emitted after {first.Value.TotalMilliseconds} ms, before the 500 ms settle window");
            }
            // Written every 100 ms and never closed: never quiet for the settle window, so the maximum delay lets it out.
            using (var busy = new FileStream(S("busy"), FileMode.Open, FileAccess.Write))
            {
                using var stop = new CancellationTokenSource();
                var writer = new Thread(() => { while (!stop.IsCancellationRequested) { busy.Write(new byte[] { 2 }); busy.Flush(); Thread.Sleep(100); } });
                writer.Start();
                var first = FirstEventOf(watch, "busy", 6);
                stop.Cancel();
                writer.Join();
                Assert.True(first != null, "no event for a file written without pause within 6 s");
                Assert.InRange(first.Value.TotalMilliseconds, 1200, 3500);
            }
        }

        /// <summary>How long after now the watch first emitted an event for a path, or null within the time.</summary>
        private static TimeSpan? FirstEventOf(MirrorWatch watch, string path, double seconds)
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed.TotalSeconds < seconds)
                if (watch.TryTake(out var e, 20, CancellationToken.None) && e.RelativePath == path) return sw.Elapsed;
            return null;
        }

        [KernelFact]
        public void Create_modify_attrib_and_delete_of_files_and_directories_are_reported_with_their_kind()
        {
            // Each name changes one way: fanotify merges unread events about one name into one (all still hinted).
            Directory.CreateDirectory(S("d/old-dir"));
            File.WriteAllText(S("d/old"), "x");
            File.WriteAllText(S("d/gone"), "x");
            using (Watch())
            {
                File.WriteAllText(S("d/f"), "1");
                File.AppendAllText(S("d/old"), "2");
                File.SetUnixFileMode(S("d"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                Directory.CreateDirectory(S("d/sub"));
                File.Delete(S("d/gone"));
                Directory.Delete(S("d/old-dir"));
                Predicate<RawChange> last = c => c.Kind == ChangeType.Deleted && c.RelativePath == "d/old-dir" && c.IsDirectory == true;
                Assert.True(WaitFor(last), Seen);
                Drain(100);
                Assert.Contains(_seen, c => c.Kind == ChangeType.Created && c.RelativePath == "d/f" && c.IsDirectory == false);
                Assert.Contains(_seen, c => c.Kind == ChangeType.Changed && c.RelativePath == "d/f" && c.Complete);
                Assert.Contains(_seen, c => c.Kind == ChangeType.Changed && c.RelativePath == "d/old");
                Assert.Contains(_seen, c => c.Kind == ChangeType.AttributeChanged && c.RelativePath == "d" && c.IsDirectory == true);
                Assert.Contains(_seen, c => c.Kind == ChangeType.Created && c.RelativePath == "d/sub" && c.IsDirectory == true);
                Assert.Contains(_seen, c => c.Kind == ChangeType.Deleted && c.RelativePath == "d/gone" && c.IsDirectory == false);
            }
        }

        [KernelFact]
        public void A_deep_tree_made_at_once_is_reported_down_to_a_file_written_at_its_bottom()
        {
            using (var w = Watch())
            {
                // mkdir -p and a write at the bottom before the watcher has read the first creation.
                Directory.CreateDirectory(S("p/q/r/s/t/u"));
                File.WriteAllText(S("p/q/r/s/t/u/leaf"), "x");
                Assert.True(WaitFor(Is(ChangeType.Created, "p")), Seen);
                Drain();
                // The hint for "p" covers all of it; and what comes later, at every depth, is reported.
                File.WriteAllText(S("p/q/r/s/t/u/later"), "y");
                File.WriteAllText(S("p/q/later"), "y");
                Assert.True(WaitFor(Is(ChangeType.Created, "p/q/r/s/t/u/later")), Seen);
                Assert.True(WaitFor(Is(ChangeType.Created, "p/q/later")) || _seen.Exists(Is(ChangeType.Created, "p/q/later")), Seen);
                Assert.Equal(new[] { "", "p", "p/q", "p/q/r", "p/q/r/s", "p/q/r/s/t", "p/q/r/s/t/u" }, Mapped(w));
            }
        }

    }

    /// <summary>A [Fact] that each test class may skip, with its reason (see KernelWatcherTestBase.SkipReasonFor).</summary>
    [XunitTestCaseDiscoverer("RealtimeMirror.Engine.Tests.Watching.KernelFactDiscoverer", "RealtimeMirror.Engine.Tests")]
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class KernelFactAttribute : FactAttribute { }

    /// <summary>Discovers a [Fact] as run, or as skipped with the reason <see cref="SkipReason"/> gives.</summary>
    public abstract class SkippableFactDiscoverer : IXunitTestCaseDiscoverer
    {
        private readonly IMessageSink _sink;
        protected SkippableFactDiscoverer(IMessageSink sink) => _sink = sink;

        /// <summary>Why the test cannot run here, or null.</summary>
        protected abstract string SkipReason(ITestMethod method);

        public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo attribute)
        {
            var why = SkipReason(method);
            var display = options.MethodDisplayOrDefault();
            var displayOptions = options.MethodDisplayOptionsOrDefault();
            if (why != null) yield return new XunitSkippedDataRowTestCase(_sink, display, displayOptions, method, why);
            else yield return new XunitTestCase(_sink, display, displayOptions, method);
        }
    }

    public sealed class KernelFactDiscoverer : SkippableFactDiscoverer
    {
        public KernelFactDiscoverer(IMessageSink sink) : base(sink) { }
        protected override string SkipReason(ITestMethod method) => KernelWatcherTestBase.SkipReasonFor(method.TestClass.Class.ToRuntimeType());
    }
}
