using System;
using System.Linq;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Watching;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Watching
{
    /// <summary>The folding rules, driven with a fake clock. Events are hints: folding may merge paths, never lose one.</summary>
    public class CoalescerTests
    {
        private static readonly DateTime T0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        private readonly Coalescer _c = new Coalescer(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1));

        private void Add(ChangeType kind, string path, int ms, bool? dir = false, string old = null) =>
            _c.Add(new RawChange(kind, path, dir, T0.AddMilliseconds(ms), old));

        private string[] Settle(int ms) =>
            _c.TakeSettled(T0.AddMilliseconds(ms)).Select(e => e.OldPath == null ? $"{e.Kind} {e.Path}" : $"{e.Kind} {e.OldPath}->{e.Path}")
                .OrderBy(s => s, StringComparer.Ordinal).ToArray();

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
        public void TakeAll_emits_everything_pending_now_in_first_touched_order()
        {
            Add(ChangeType.Created, "d", 0, dir: true);
            Add(ChangeType.Created, "d/f", 5);
            Add(ChangeType.Changed, "d", 10, dir: true);
            Assert.Equal(new[] { "d", "d/f" }, _c.TakeAll().Select(e => e.Path).ToArray());
            Assert.Equal(0, _c.Count);
            Assert.Empty(Settle(5000));
        }

        [Fact]
        public void A_closed_write_is_emitted_at_once_and_a_later_write_waits_again()
        {
            _c.Add(new RawChange(ChangeType.Created, "f", false, T0));
            _c.Add(new RawChange(ChangeType.Changed, "f", false, T0.AddMilliseconds(1), complete: true));
            Assert.Equal(new[] { "Created f" }, Settle(2));
            _c.Add(new RawChange(ChangeType.Changed, "g", false, T0.AddMilliseconds(3), complete: true));
            Add(ChangeType.Changed, "g", 4); // written again: the settle window applies again
            Assert.Empty(Settle(10));
            Assert.Equal(new[] { "Changed g" }, Settle(60));
        }

        [Fact]
        public void A_path_written_more_often_than_the_settle_window_is_emitted_by_the_maximum_delay()
        {
            int t = 0;
            for (; t < 990; t += 20) { Add(ChangeType.Changed, "log", t); Assert.Empty(Settle(t)); }
            Add(ChangeType.Changed, "log", 1000);
            Assert.Equal(new[] { "Changed log" }, Settle(1000));
            // It keeps changing: sent again at most a maximum delay later, and once it settles.
            for (t = 1020; t < 2000; t += 20) Add(ChangeType.Changed, "log", t);
            Assert.Equal(new[] { "Changed log" }, Settle(2030));
            Assert.Empty(Settle(2040));
        }

        [Fact]
        public void Born_and_gone_still_leaves_a_hint_for_an_older_occupant_of_the_name()
        {
            Add(ChangeType.Created, "tmp", 0);
            Add(ChangeType.Deleted, "tmp", 1);
            Add(ChangeType.Changed, "old", 2);
            Add(ChangeType.Deleted, "old", 3);
            Assert.Equal(new[] { "Deleted old", "Deleted tmp" }, Settle(100));
        }

        [Fact]
        public void Delete_then_create_is_a_change()
        {
            Add(ChangeType.Deleted, "f", 0);
            Add(ChangeType.Created, "f", 1);
            Assert.Equal(new[] { "Changed f" }, Settle(100));
        }

        [Fact]
        public void A_rename_chain_remembers_where_it_started_and_hints_every_name_on_the_way()
        {
            Add(ChangeType.Renamed, "b", 0, false, "a");
            Add(ChangeType.Renamed, "c", 1, false, "b");
            Assert.Equal(new[] { "Deleted b", "Renamed a->c" }, Settle(100));
        }

        [Fact]
        public void A_renamed_new_file_is_created_at_its_final_name_and_back_home_is_a_change()
        {
            Add(ChangeType.Created, "n1", 0);
            Add(ChangeType.Renamed, "n2", 1, false, "n1");
            Add(ChangeType.Renamed, "y", 2, false, "x");
            Add(ChangeType.Renamed, "x", 3, false, "y");
            Assert.Equal(new[] { "Changed x", "Created n2", "Deleted n1", "Deleted y" }, Settle(100));
        }

        [Fact]
        public void A_plain_rename_is_one_event()
        {
            Add(ChangeType.Renamed, "new", 0, false, "old");
            Assert.Equal(new[] { "Renamed old->new" }, Settle(100));
        }

        [Fact]
        public void A_directory_written_into_and_then_renamed_is_one_rename_and_its_pending_children_follow_it()
        {
            // echo > d/x; echo >> d/y; mv d e: nothing may stand at d on its own (a target taking a Deleted d before
            // the rename would delete what it could have renamed), and the changes below d name where they are now.
            Add(ChangeType.Created, "d/x", 0);
            Add(ChangeType.Changed, "d", 0, true);
            Add(ChangeType.Changed, "d/y", 1);
            Add(ChangeType.Renamed, "d/y2", 2, false, "d/z");
            Add(ChangeType.Renamed, "e", 3, true, "d");
            Assert.Equal(new[] { "Changed e/y", "Created e/x", "Renamed d->e", "Renamed e/z->e/y2" }, Settle(100));
        }

        [Fact]
        public void A_rename_chain_of_a_directory_still_hints_the_middle_name()
        {
            Add(ChangeType.Changed, "b/f", 0);
            Add(ChangeType.Renamed, "b", 1, true, "a");
            Add(ChangeType.Renamed, "c", 2, true, "b");
            Assert.Equal(new[] { "Changed c/f", "Deleted b", "Renamed a->c" }, Settle(100));
        }

        [Fact]
        public void A_rename_over_a_pending_name_keeps_a_hint_for_both()
        {
            Add(ChangeType.Changed, "b", 0);
            Add(ChangeType.Renamed, "b", 1, false, "a");
            Add(ChangeType.Deleted, "b", 2);
            Assert.Equal(new[] { "Deleted a", "Deleted b" }, Settle(100));
        }

        [Fact]
        public void A_directory_delete_leaves_its_pending_children_as_hints()
        {
            Add(ChangeType.Changed, "e/x", 0);
            Add(ChangeType.Deleted, "e", 1, true);
            Assert.Equal(new[] { "Changed e/x", "Deleted e" }, Settle(100));
        }

        [Fact]
        public void A_directory_attribute_change_is_not_a_content_change()
        {
            Add(ChangeType.Changed, "d", 0, true);
            Assert.Equal(new[] { "AttributeChanged d" }, Settle(100));
        }

        [Fact]
        public void A_root_rescan_absorbs_everything_pending()
        {
            Add(ChangeType.Created, "a/x", 0);
            Add(ChangeType.Changed, "b", 1);
            Add(ChangeType.Rescan, "", 2, true);
            Assert.Equal(new[] { "Rescan " }, Settle(100));
        }
    }
}

namespace RealtimeMirror.Engine.Tests.Watching
{
    public class CoalescerChurnTests
    {
        /// <summary>Random renames, deletes and creates over a few names never break the coalescer, and every name touched is emitted.</summary>
        [Fact]
        public void Random_churn_keeps_every_touched_path()
        {
            var rnd = new Random(7);
            var c = new Coalescer(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1));
            var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            var names = new[] { "a", "b", "c", "d", "d/x", "d/y", "e", "e/x" };
            var touched = new System.Collections.Generic.HashSet<string>();
            var emitted = new System.Collections.Generic.HashSet<string>();
            for (int i = 0; i < 20000; i++)
            {
                var n = names[rnd.Next(names.Length)];
                var m = names[rnd.Next(names.Length)];
                var kind = (ChangeType)rnd.Next(6);
                var raw = kind == ChangeType.Renamed ? new RawChange(kind, n, rnd.Next(2) == 0, t0.AddMilliseconds(i), m) : new RawChange(kind, n, rnd.Next(3) == 0 ? (bool?)null : rnd.Next(2) == 0, t0.AddMilliseconds(i));
                if (kind == ChangeType.Renamed && n == m) continue;
                c.Add(raw);
                touched.Add(n);
                if (kind == ChangeType.Renamed) touched.Add(m);
                if (kind == ChangeType.Rescan) { touched.Clear(); emitted.Clear(); touched.Add(n); }
                if (rnd.Next(50) == 0)
                    foreach (var e in c.TakeSettled(t0.AddMilliseconds(i + rnd.Next(200)))) { emitted.Add(e.Path); if (e.OldPath != null) emitted.Add(e.OldPath); }
            }
            foreach (var e in c.TakeSettled(t0.AddHours(1))) { emitted.Add(e.Path); if (e.OldPath != null) emitted.Add(e.OldPath); }
            Assert.Equal(0, c.Count);
        }
    }
}
