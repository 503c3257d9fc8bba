using System;
using System.Linq;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Watching;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Watching
{
    /// <summary>The coalescing rules, driven with a fake clock.</summary>
    public class CoalescerTests
    {
        private static readonly DateTime T0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        private readonly Coalescer _c = new Coalescer(TimeSpan.FromMilliseconds(50));

        private void Add(ChangeType kind, string path, int ms, bool? dir = false, string old = null) =>
            _c.Add(new RawChange(kind, path, dir, T0.AddMilliseconds(ms), old));

        private string[] Settle(int ms) =>
            _c.TakeSettled(T0.AddMilliseconds(ms)).Select(e => e.OldPath == null ? $"{e.Kind} {e.Path}" : $"{e.Kind} {e.OldPath}->{e.Path}").ToArray();

        [Fact]
        public void Nothing_is_emitted_before_the_path_is_quiet_for_the_settle_window()
        {
            Add(ChangeType.Created, "a", 0);
            Add(ChangeType.Changed, "a", 40);
            Assert.Empty(Settle(60));
            Assert.Equal(new[] { "Created a" }, Settle(90));
            Assert.Empty(Settle(500));
        }

        [Fact]
        public void Create_then_delete_is_nothing_and_change_then_delete_is_delete()
        {
            Add(ChangeType.Created, "tmp", 0);
            Add(ChangeType.Deleted, "tmp", 1);
            Add(ChangeType.Changed, "old", 2);
            Add(ChangeType.Deleted, "old", 3);
            Assert.Equal(new[] { "Deleted old" }, Settle(100));
        }

        [Fact]
        public void Delete_then_create_is_a_change()
        {
            Add(ChangeType.Deleted, "f", 0);
            Add(ChangeType.Created, "f", 1);
            Assert.Equal(new[] { "Changed f" }, Settle(100));
        }

        [Fact]
        public void Rename_chains_collapse_and_a_renamed_new_file_is_just_created()
        {
            Add(ChangeType.Renamed, "b", 0, false, "a");
            Add(ChangeType.Renamed, "c", 1, false, "b");
            Add(ChangeType.Created, "n1", 2);
            Add(ChangeType.Renamed, "n2", 3, false, "n1");
            Assert.Equal(new[] { "Renamed a->c", "Created n2" }, Settle(100));
        }

        [Fact]
        public void Renamed_then_deleted_deletes_the_old_name_and_back_home_is_a_change()
        {
            Add(ChangeType.Renamed, "b", 0, false, "a");
            Add(ChangeType.Deleted, "b", 1);
            Add(ChangeType.Renamed, "y", 2, false, "x");
            Add(ChangeType.Renamed, "x", 3, false, "y");
            Assert.Equal(new[] { "Changed x", "Deleted a" }, Settle(100));
        }

        [Fact]
        public void A_child_waits_for_its_new_parent_and_a_directory_delete_absorbs_its_children()
        {
            Add(ChangeType.Created, "d", 0, true);
            Add(ChangeType.Created, "d/f", 10);
            Add(ChangeType.Changed, "d", 45, true); // the parent is touched again: the child must still come after it
            Assert.Empty(Settle(70));
            Assert.Equal(new[] { "Created d", "Created d/f" }, Settle(100));

            Add(ChangeType.Changed, "e/x", 200);
            Add(ChangeType.Deleted, "e", 201, true);
            Assert.Equal(new[] { "Deleted e" }, Settle(300));
        }

        [Fact]
        public void Pending_changes_inside_a_renamed_directory_follow_it()
        {
            Add(ChangeType.Created, "d/new.txt", 0);
            Add(ChangeType.Renamed, "e", 1, true, "d");
            Assert.Equal(new[] { "Renamed d->e", "Created e/new.txt" }, Settle(100));
        }

        [Fact]
        public void Deletes_come_after_renames_in_a_batch()
        {
            Add(ChangeType.Deleted, "gone", 0);
            Add(ChangeType.Renamed, "kept", 1, false, "moved");
            Assert.Equal(new[] { "Renamed moved->kept", "Deleted gone" }, Settle(100));
        }

        [Fact]
        public void A_rescan_absorbs_everything_pending_below_it()
        {
            Add(ChangeType.Created, "a/x", 0);
            Add(ChangeType.Changed, "b", 1);
            Add(ChangeType.Rescan, "a", 2, true);
            Assert.Equal(new[] { "Changed b", "Rescan a" }, Settle(100));
        }

        [Fact]
        public void Coalescing_is_constant_time_per_change()
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < 200_000; i++) Add(i % 3 == 0 ? ChangeType.Created : ChangeType.Changed, $"dir{i % 500}/f{i % 50_000}", i / 1000);
            var events = _c.TakeSettled(T0.AddSeconds(10));
            Assert.Equal(50_000, events.Count);
            Assert.True(sw.ElapsedMilliseconds < 3000, $"took {sw.ElapsedMilliseconds} ms");
        }
    }
}
