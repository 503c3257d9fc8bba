using System.Linq;
using RealtimeMirror.Engine.Watching;
using RealtimeMirror.Engine.Watching.Inotify;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Watching
{
    public class WatchMapTests
    {
        [Fact]
        public void A_subtree_is_the_directory_and_what_is_below_it_not_its_look_alike_siblings()
        {
            var m = new WatchMap();
            m.Set(1, "");
            m.Set(2, "a");
            m.Set(3, "a/b");
            m.Set(4, "a0");
            m.Set(5, "a.b");
            m.Set(6, "a-b/c");
            m.Set(7, "a/b/c");
            Assert.Equal(new[] { 2, 3, 7 }, m.Subtree("a").Select(e => e.Key).OrderBy(w => w));
            Assert.Equal(7, m.Subtree("").Count);
        }

        [Fact]
        public void A_move_rewrites_only_the_watches_the_directory_had_when_it_began()
        {
            var m = new WatchMap();
            m.Set(2, "a");
            m.Set(3, "a/b");
            var had = m.Subtree("a").Select(e => e.Key).ToList();
            m.Set(9, "a/new"); // made under the old name before the move was seen
            m.MoveSubtree(had, "a", "z");
            Assert.True(m.TryGetPath(3, out var p3) && p3 == "z/b");
            Assert.True(m.TryGetPath(9, out var p9) && p9 == "a/new");
            Assert.True(m.TryGetWd("z", out var wz) && wz == 2);
            Assert.False(m.TryGetWd("a", out _));
        }

        [Fact]
        public void The_old_watch_of_a_replaced_directory_does_not_take_the_new_ones_path_with_it()
        {
            var m = new WatchMap();
            m.Set(2, "a");
            m.Set(8, "a");  // deleted and made again; IN_IGNORED of 2 not read yet
            m.Remove(2);
            Assert.True(m.TryGetWd("a", out var w) && w == 8);
            Assert.Single(m.Subtree("a"));
        }

        [Fact]
        public void Unwatched_subtrees_keep_only_the_topmost()
        {
            var u = new UnwatchedSubtrees();
            u.Add("x/y");
            u.Add("x");
            u.Add("x/z");
            u.Add("w");
            u.MoveSubtree("w", "v");
            Assert.Equal(new[] { "v", "x" }, u.TakeAll().OrderBy(d => d, System.StringComparer.Ordinal));
            Assert.Equal(0, u.Count);
        }
    }
}
