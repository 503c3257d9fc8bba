using System.Linq;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Planning
{
    public class TreePlannerTests
    {
        private static FileMeta F(string p, long size = 10, long mtime = 1000, int mode = 0x1A4) => new FileMeta(p, EntryKind.File, size, mtime, mode, 0, 0, null);
        private static FileMeta D(string p, long mtime = 1000) => new FileMeta(p, EntryKind.Directory, 0, mtime, 0x1ED, 0, 0, null);
        private static FileMeta L(string p, string target) => new FileMeta(p, EntryKind.Symlink, target.Length, 1000, 0x1FF, 0, 0, target);

        [Fact]
        public void Equal_trees_need_nothing()
        {
            var tree = new[] { D("a"), F("a/x"), L("l", "a/x") };
            Assert.Empty(TreePlanner.Plan(tree, tree, delete: true, compareOwner: true));
        }

        [Fact]
        public void Quick_check_uses_size_then_mtime_then_mode()
        {
            var plan = TreePlanner.Plan(
                new[] { F("size", 11), F("time", mtime: 2000), F("mode", mode: 0x180), F("same") },
                new[] { F("size"), F("time"), F("mode"), F("same") }, false, false);
            Assert.Equal(ActionKind.SendFile, plan.Single(p => p.RelativePath == "size").Kind);
            Assert.Equal(ActionKind.CheckContent, plan.Single(p => p.RelativePath == "time").Kind);
            Assert.Equal(ActionKind.SetMetadata, plan.Single(p => p.RelativePath == "mode").Kind);
            Assert.DoesNotContain(plan, p => p.RelativePath == "same");
        }

        [Fact]
        public void New_directory_comes_before_its_children_and_its_time_is_set_after_them()
        {
            var plan = TreePlanner.Plan(new[] { D("d"), F("d/x") }, new FileMeta[0], false, false);
            Assert.Equal(new[] { "MakeDirectory d", "SendFile d/x", "SetMetadata d" }, plan.Select(p => p.ToString()));
            Assert.True(plan.Last().Quiet);
        }

        [Fact]
        public void Extraneous_entries_are_deleted_only_with_delete_topmost_only_and_never_when_excluded()
        {
            var replica = new[] { D("old"), F("old/a"), F("old/b"), F("keep.tmp") };
            Assert.Empty(TreePlanner.Plan(new FileMeta[0], replica, false, false));
            var plan = TreePlanner.Plan(new FileMeta[0], replica, true, false, new GlobFilter(new[] { "*.tmp" }));
            Assert.Equal(new[] { "Delete old" }, plan.Select(p => p.ToString()));
        }

        [Fact]
        public void Kind_change_deletes_then_creates()
        {
            var plan = TreePlanner.Plan(new[] { F("x") }, new[] { D("x"), F("x/inner") }, false, false);
            Assert.Equal(new[] { "Delete x", "SendFile x" }, plan.Select(p => p.ToString()));
        }

        [Fact]
        public void Symlink_with_another_target_is_replaced()
        {
            var plan = TreePlanner.Plan(new[] { L("l", "new") }, new[] { L("l", "old") }, false, false);
            Assert.Equal(ActionKind.MakeSymlink, plan.Single().Kind);
        }

        [Fact]
        public void Owner_is_compared_only_when_the_replica_can_set_it()
        {
            var src = new[] { new FileMeta("f", EntryKind.File, 1, 1, 0x1A4, 1000, 1000, null) };
            var rep = new[] { new FileMeta("f", EntryKind.File, 1, 1, 0x1A4, 0, 0, null) };
            Assert.Empty(TreePlanner.Plan(src, rep, false, compareOwner: false));
            Assert.Equal(ActionKind.SetMetadata, TreePlanner.Plan(src, rep, false, compareOwner: true).Single().Kind);
        }

        [Fact]
        public void Planning_a_large_tree_is_linear()
        {
            var src = Enumerable.Range(0, 2000).SelectMany(d => new[] { D($"d{d}") }.Concat(Enumerable.Range(0, 20).Select(f => F($"d{d}/f{f}")))).ToList();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var plan = TreePlanner.Plan(src, new FileMeta[0], true, false);
            Assert.Equal(2000 * 22, plan.Count);
            Assert.True(sw.ElapsedMilliseconds < 5000, $"took {sw.ElapsedMilliseconds} ms");
        }
    }
}
