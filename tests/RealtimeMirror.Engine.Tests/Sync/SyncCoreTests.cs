using System.IO;
using System.Linq;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Results;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Sync
{
    /// <summary>
    /// Regression tests for the ways the replica used to diverge silently (the sync-core issue's numbered list),
    /// each through the engine's one planner against a real local replica, judged by rsync.
    /// </summary>
    public class SyncCoreTests : System.IDisposable
    {
        private readonly MirrorFixture _m = new MirrorFixture();
        public void Dispose() => _m.Dispose();

        [Fact] // 1
        public void A_same_size_rewrite_within_the_same_second_is_mirrored()
        {
            _m.Sh("echo 'enabled=yes' > $S/conf; touch -d '2026-01-01 10:00:00.100' $S/conf");
            _m.SyncAll();
            _m.Sh("echo 'enabled=no!' > $S/conf; touch -d '2026-01-01 10:00:00.900' $S/conf");
            _m.Apply((ChangeType.Changed, "conf", null, false));
            Assert.Equal("enabled=no!\n", File.ReadAllText(Path.Combine(_m.Replica, "conf")));
            _m.AssertEqual();
        }

        [Fact]
        public void A_directory_that_vanishes_between_its_parents_listing_and_its_own_is_no_error()
        {
            // A busy tree: directories renamed away and back while whole-tree syncs run. One that goes between the
            // listing of its parent and its own listing is a change in flight (its event brings the next plan), not
            // a failure: no error, nothing below it deleted, and the next quiet sync makes the replica equal.
            _m.Sh("for i in $(seq 1 150); do mkdir $S/d$i; echo $i > $S/d$i/f; done");
            _m.SyncAll();
            using var stop = new System.Threading.CancellationTokenSource();
            var churn = System.Threading.Tasks.Task.Run(() =>
            {
                var rng = new System.Random(5);
                while (!stop.IsCancellationRequested)
                {
                    var d = Path.Combine(_m.Source, "d" + rng.Next(1, 151));
                    try { Directory.Move(d, d + ".away"); Directory.Move(d + ".away", d); } catch (IOException) { }
                }
            });
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < 3) _m.SyncAll();
            stop.Cancel();
            churn.Wait();
            Assert.True(_m.Errors.Count == 0, string.Join("\n", _m.Errors.Select(e => e.Path + ": " + e.Error.Message)));
            _m.SyncAll();
            _m.AssertEqual();
        }

        [Fact] // 3
        public void A_change_queued_before_its_directory_was_renamed_keeps_the_child()
        {
            _m.Sh("mkdir $S/d; echo one > $S/d/x");
            _m.SyncAll();
            _m.Sh("echo two > $S/d/x; mv $S/d $S/e");
            _m.Apply((ChangeType.Changed, "d/x", null, false), (ChangeType.Renamed, "e", "d", true));
            Assert.Equal("two\n", File.ReadAllText(Path.Combine(_m.Replica, "e/x")));
            Assert.False(Directory.Exists(Path.Combine(_m.Replica, "d")));
            _m.AssertEqual();
        }

        [Fact] // 3
        public void A_same_size_same_mtime_rewrite_queued_before_its_directory_was_renamed_is_sent()
        {
            // Only the queued hint knows x changed: size and mtime (restored to the nanosecond) say it did not.
            _m.Sh("mkdir $S/d; printf aaaa > $S/d/x; touch -d '2020-01-01 00:00:00.123456789' $S/d/x");
            _m.SyncAll();
            _m.Sh("t=$(stat -c %y $S/d/x); printf bbbb > $S/d/x; touch -d \"$t\" $S/d/x; mv $S/d $S/e");
            _m.Apply((ChangeType.Changed, "d/x", null, false), (ChangeType.Renamed, "e", "d", true));
            Assert.Equal("bbbb", File.ReadAllText(Path.Combine(_m.Replica, "e/x")));
            Assert.Contains(_m.Results, r => r.Action == SyncAction.Renamed && r.RelativePath == "e");
        }

        [Fact] // 3
        public void Unpacking_into_a_staging_directory_then_renaming_it_into_place_loses_nothing()
        {
            _m.SyncAll();
            _m.Sh("mkdir $S/.staging; for i in $(seq 1 300); do echo $i > $S/.staging/f$i; done; mv $S/.staging $S/release");
            // The watcher saw some of the writes under the staging name, then the rename.
            _m.Apply((ChangeType.Created, ".staging", null, true), (ChangeType.Changed, ".staging/f7", null, false),
                (ChangeType.Renamed, "release", ".staging", true));
            Assert.Equal(300, Directory.GetFiles(Path.Combine(_m.Replica, "release")).Length);
            _m.AssertEqual();
        }

        [Fact] // 4
        public void Rename_over_an_existing_file_then_deleting_it_removes_both_names()
        {
            _m.Sh("echo a > $S/a; echo b > $S/b");
            _m.SyncAll();
            _m.Sh("mv $S/a $S/b; rm $S/b");
            _m.Apply((ChangeType.Renamed, "b", "a", false), (ChangeType.Deleted, "b", null, false));
            _m.AssertEqual();
        }

        [Fact] // 4
        public void A_rename_chain_through_an_existing_name_leaves_nothing_stale()
        {
            _m.Sh("echo a > $S/a; echo b > $S/b");
            _m.SyncAll();
            _m.Sh("mv $S/a $S/b; mv $S/b $S/c");
            _m.Apply((ChangeType.Renamed, "b", "a", false), (ChangeType.Renamed, "c", "b", false));
            _m.AssertEqual();
        }

        [Fact] // 4
        public void Editor_save_through_an_excluded_temp_name_updates_the_file()
        {
            _m.Sh("echo old > $S/doc");
            _m.SyncAll();
            _m.Sh("echo new > $S/doc.tmp; mv $S/doc.tmp $S/doc");
            // The temp name is excluded by the watch, so the rename reaches us as a create of the final name.
            _m.Apply((ChangeType.Created, "doc", null, false));
            Assert.Equal("new\n", File.ReadAllText(Path.Combine(_m.Replica, "doc")));
            _m.AssertEqual();
        }

        [Fact] // 4
        public void A_swap_of_two_same_size_files_is_mirrored()
        {
            _m.Sh("echo AAAA > $S/x; echo BBBB > $S/y; touch -d '2026-01-01 10:00:00' $S/x $S/y");
            _m.SyncAll();
            _m.Sh("mv $S/x $S/t; mv $S/y $S/x; mv $S/t $S/y");
            _m.Apply((ChangeType.Renamed, "t", "x", false), (ChangeType.Renamed, "x", "y", false), (ChangeType.Renamed, "y", "t", false));
            Assert.Equal("BBBB\n", File.ReadAllText(Path.Combine(_m.Replica, "x")));
            _m.AssertEqual();
        }

        [Fact] // 4
        public void A_file_moved_into_a_directory_that_then_leaves_the_tree_is_gone_from_the_replica()
        {
            _m.Sh("mkdir $S/d; echo f > $S/f");
            _m.SyncAll();
            _m.Sh("mv $S/f $S/d/f; mv $S/d $O/d");
            _m.Apply((ChangeType.Renamed, "d/f", "f", false), (ChangeType.Deleted, "d", null, true));
            _m.AssertEqual();
        }

        [Fact] // 5
        public void Remove_and_recreate_a_directory_in_one_burst_drops_the_old_children()
        {
            _m.Sh("mkdir $S/d; echo 1 > $S/d/old1; echo 2 > $S/d/old2");
            _m.SyncAll();
            _m.Sh("rm -rf $S/d; mkdir $S/d; echo 3 > $S/d/new");
            _m.Apply((ChangeType.Changed, "d", null, true), (ChangeType.Created, "d/new", null, false));
            _m.AssertEqual();
        }

        [Fact] // 9
        public void Owners_past_2_pow_31_land_exactly_and_setuid_stays_only_with_its_owner()
        {
            if (!RealtimeMirror.Engine.Platform.Posix.IsRoot) return; // chown needs root
            _m.Sh("echo x > $S/f; chown 3000000000:3000000001 $S/f; chmod 4755 $S/f");
            _m.SyncAll();
            _m.Sh("test \"$(stat -c '%u:%g:%a' $R/f)\" = 3000000000:3000000001:4755");
            _m.AssertEqual();
        }

        [Fact] // 10
        public void WhatIf_plans_nested_new_directories_and_changes_nothing()
        {
            _m.Sh("mkdir -p \"$S/a b/c/d\"; echo x > \"$S/a b/c/d/f\"");
            var asked = new System.Collections.Generic.List<PlannedAction>();
            var o = _m.Options();
            o.DryRun = true;
            o.ShouldProcess = a => { asked.Add(a); return false; };
            _m.Session.Sync(_m.Root, new[] { SyncHint.WholeTree() }, o);
            Assert.Empty(_m.Errors);
            Assert.Contains(asked, a => a.RelativePath == "a b/c/d/f" && a.Kind == ActionKind.SendFile);
            Assert.Empty(Directory.GetFileSystemEntries(_m.Replica));
        }

        [Fact] // 11
        public void A_fifo_is_recreated_never_opened_and_a_hard_link_edit_updates_both_names()
        {
            _m.Sh("mkfifo $S/pipe; echo one > $S/a; ln $S/a $S/b");
            _m.SyncAll();
            _m.Sh("echo two >> $S/a");
            _m.Apply((ChangeType.Changed, "a", null, false));
            Assert.Equal("one\ntwo\n", File.ReadAllText(Path.Combine(_m.Replica, "b")));
            if (RealtimeMirror.Engine.Platform.Posix.IsRoot) _m.Sh("test -p $R/pipe");
        }

        [Fact] // 11
        public void Hard_links_land_as_hard_links_on_a_local_replica()
        {
            _m.Sh("echo one > $S/a; ln $S/a $S/b; mkdir $S/d; ln $S/a $S/d/c");
            _m.SyncAll();
            _m.Sh("test $(stat -c %h $R/a) = 3; test $(stat -c %i $R/a) = $(stat -c %i $R/d/c)");
            _m.Sh("echo two >> $S/b");
            _m.Apply((ChangeType.Changed, "b", null, false));
            _m.Sh("test \"$(cat $R/a)\" = \"$(printf 'one\ntwo')\"; test $(stat -c %i $R/a) = $(stat -c %i $R/b)");
            // Linking again names already linked leaves no temp name behind.
            _m.Apply((ChangeType.Changed, "a", null, false), (ChangeType.Changed, "b", null, false));
            _m.SyncAll();
            Assert.Empty(Directory.GetFiles(_m.Replica, ".*rtm-*", SearchOption.AllDirectories));
            _m.AssertEqual();
        }

        [Fact] // 11
        public void A_file_replaced_by_a_fifo_after_planning_does_not_hang()
        {
            _m.Sh("echo x > $S/f");
            var o = _m.Options();
            bool swapped = false;
            o.ShouldProcess = a =>
            {
                if (!swapped && a.RelativePath == "f") { swapped = true; _m.Sh("rm $S/f; mkfifo $S/f"); }
                return true;
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            _m.Session.Sync(_m.Root, new[] { SyncHint.WholeTree() }, o);
            Assert.True(clock.Elapsed.TotalSeconds < 10);
            Assert.True(swapped);
        }

        [Fact] // 2
        public void A_delete_is_applied_only_when_the_source_confirms_it()
        {
            _m.Sh("mkdir $S/d; echo x > $S/d/x");
            _m.SyncAll();
            // A stale delete event for a file that is still there changes nothing.
            _m.Apply((ChangeType.Deleted, "d/x", null, false));
            Assert.True(File.Exists(Path.Combine(_m.Replica, "d/x")));
            _m.Sh("rm $S/d/x");
            _m.Apply((ChangeType.Deleted, "d/x", null, false));
            Assert.False(File.Exists(Path.Combine(_m.Replica, "d/x")));
        }

        [Fact] // 12
        public void A_missing_source_root_deletes_nothing()
        {
            _m.Sh("echo x > $S/f");
            _m.SyncAll();
            _m.Sh("rm -rf $S");
            Assert.Throws<RealtimeMirror.Engine.Sync.SourceRootMissingException>(() => _m.SyncAll());
            Assert.True(File.Exists(Path.Combine(_m.Replica, "f")));
            _m.Sh("mkdir $S; echo y > $S/g");
            _m.SyncAll();
            _m.AssertEqual();
        }

        [Fact] // 13
        public void A_local_target_inside_the_source_is_refused_before_anything_is_written()
        {
            using var m = new MirrorFixture(new RealtimeMirror.Engine.Targets.MirrorTarget { Name = "in", Kind = RealtimeMirror.Engine.Targets.TargetKind.Local, Path = Path.Combine(Path.GetTempPath(), "rtm-unused-" + System.Guid.NewGuid().ToString("N")) });
            var inside = new RealtimeMirror.Engine.Targets.MirrorTarget { Name = "inside", Kind = RealtimeMirror.Engine.Targets.TargetKind.Local, Path = Path.Combine(m.Source, "backup") };
            using var session = RealtimeMirror.Engine.Sync.TargetSession.Open(inside, false, default);
            m.Sh("echo x > $S/f");
            Assert.Throws<RealtimeMirror.Engine.Sync.TargetOverlapsSourceException>(() => session.Sync(m.Root, new[] { SyncHint.WholeTree() }, m.Options()));
            Assert.False(File.Exists(Path.Combine(m.Source, "backup/f")));
        }

        [Fact] // 13
        public void A_local_target_that_contains_the_source_or_hides_inside_it_behind_a_link_or_bind_mount_is_refused()
        {
            using var m = new MirrorFixture();
            m.Sh("mkdir -p $S/sub/deeper; echo keep > $S/sub/keep; ln -s $S $O/to-src");
            var top = Path.GetDirectoryName(m.Source);
            var bind = Path.Combine(top, "bind");
            Directory.CreateDirectory(bind);
            bool bound = m.TryMount("--bind " + m.Source + " " + bind);
            try
            {
                var disguised = new System.Collections.Generic.List<string>
                {
                    top,                                            // contains the source: -Delete would remove it
                    Path.Combine(m.Outside, "to-src/sub/deeper/r"),  // inside, through a link in a middle component
                    Path.Combine(m.Source, "sub/../sub//deeper/./r"), // inside, spelled oddly
                };
                if (bound) disguised.Add(Path.Combine(bind, "sub/r")); // inside, through a bind mount
                foreach (var path in disguised)
                {
                    var target = new RealtimeMirror.Engine.Targets.MirrorTarget { Name = "t", Kind = RealtimeMirror.Engine.Targets.TargetKind.Local, Path = path };
                    using var session = RealtimeMirror.Engine.Sync.TargetSession.Open(target, false, default);
                    Assert.Throws<RealtimeMirror.Engine.Sync.TargetOverlapsSourceException>(() => session.Sync(m.Root, new[] { SyncHint.WholeTree() }, m.Options(delete: true)));
                }
                Assert.Equal("keep\n", File.ReadAllText(Path.Combine(m.Source, "sub/keep")));
                Assert.False(Directory.Exists(Path.Combine(m.Source, "sub/deeper/r/sub")));
                // A sibling is not an overlap.
                Assert.False(RealtimeMirror.Engine.Platform.TreeOverlap.Overlaps(m.Source, m.Source + "-backup"));
            }
            finally { if (bound) m.Sh("umount " + bind); }
        }

        [Transport.SshFact] // 11
        public void A_fifo_that_SFTP_cannot_make_is_warned_about_once_not_at_every_compare()
        {
            var top = Directory.CreateTempSubdirectory("rtm-fifo-sftp-").FullName;
            try
            {
                var target = Transport.SshTestEnvironment.Target(Path.Combine(top, "replica"));
                target.Rsync = RealtimeMirror.Engine.Targets.RsyncMode.Never; // SFTP alone cannot make a fifo
                using var m = new MirrorFixture(target);
                m.Sh("mkfifo $S/pipe; echo x > $S/f");
                m.SyncAll();
                m.SyncAll();
                m.Apply((ChangeType.AttributeChanged, "pipe", null, false));
                Assert.Single(m.Warnings, w => w.StartsWith("pipe: ", System.StringComparison.Ordinal));
                Assert.Equal("x\n", File.ReadAllText(Path.Combine(top, "replica/f")));
                Assert.False(File.Exists(Path.Combine(top, "replica/pipe")));
            }
            finally { Directory.Delete(top, true); }
        }

        [Fact]
        public void Names_that_are_not_UTF8_are_mirrored_byte_exact_and_kept_by_a_second_delete_sync()
        {
            _m.Sh("mkdir $S/\"r$(printf '\\xe9')sum$(printf '\\xe9')s\"; echo x > $S/\"caf$(printf '\\xe9').txt\"; echo y > $S/\"caf$(printf '\\xc3\\xa9').txt\"; ln -s \"t$(printf '\\xff')\" $S/link");
            _m.SyncAll();
            _m.AssertEqual();
            _m.SyncAll();
            _m.AssertEqual();
            Assert.DoesNotContain(_m.Results, r => r.Action == SyncAction.Deleted);
        }

        [Fact]
        public void A_255_byte_name_is_mirrored()
        {
            var name = new string('n', 255);
            _m.Sh($"echo x > $S/{name}");
            _m.SyncAll();
            _m.AssertEqual();
        }

        [Fact]
        public void A_directory_swapped_for_a_symlink_on_the_replica_is_never_written_through()
        {
            _m.Sh("mkdir $S/d; echo x > $S/d/f");
            _m.SyncAll();
            _m.Sh("chmod 700 $O; rm -rf $R/d; ln -s $O $R/d; echo y > $S/d/passwd");
            _m.Apply((ChangeType.Created, "d/passwd", null, false));
            _m.Sh("test ! -e $O/passwd; test \"$(stat -c %a $O)\" = 700");
            _m.SyncAll();
            _m.Sh("test ! -e $O/passwd; test ! -L $R/d");
            _m.AssertEqual();
        }

        [Fact]
        public void A_symlink_swapped_in_on_the_source_is_sent_as_a_symlink()
        {
            _m.Sh("echo secret > $O/shadow; echo x > $S/f");
            _m.SyncAll();
            _m.Sh("rm $S/f; ln -s $O/shadow $S/f");
            _m.Apply((ChangeType.Changed, "f", null, false));
            _m.Sh("test -L $R/f");
            _m.AssertEqual();
        }
    }
}
