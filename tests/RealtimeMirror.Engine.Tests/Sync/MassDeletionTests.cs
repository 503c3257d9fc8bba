using System;
using System.IO;
using System.Linq;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Sync;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Sync
{
    /// <summary>The halt before a mass deletion: a plan past the threshold is not executed at all.</summary>
    public class MassDeletionTests : IDisposable
    {
        private readonly MirrorFixture _m = new MirrorFixture();
        public void Dispose() => _m.Dispose();

        private SyncOptions Guarded(string threshold = "50%", bool allow = false)
        {
            var o = _m.Options();
            o.HaltThreshold = HaltThreshold.Parse(threshold);
            o.AllowMassDelete = allow;
            return o;
        }

        private void Tree()
        {
            _m.Sh("mkdir -p $S/big/a $S/big/b $S/c; for i in $(seq 1 10); do echo a$i > $S/big/a/f$i; echo b$i > $S/big/b/f$i; echo c$i > $S/c/f$i; done; echo k > $S/keep");
        }

        [Theory]
        [InlineData("50%", 50.0, null)]
        [InlineData(" 12.5 % ", 12.5, null)]
        [InlineData("1000", null, 1000L)]
        [InlineData("0", null, 0L)]
        public void Parses_shares_and_counts(string text, double? percent, long? count)
        {
            var t = HaltThreshold.Parse(text);
            Assert.Equal(percent, t.Percent);
            Assert.Equal(count, t.Count);
        }

        [Theory]
        [InlineData("lots")]
        [InlineData("101%")]
        [InlineData("-1")]
        [InlineData("")]
        public void Refuses_other_text(string text) => Assert.Throws<ArgumentException>(() => HaltThreshold.Parse(text));

        [Fact]
        public void Share_applies_from_the_floor_and_counts_are_strict()
        {
            var half = HaltThreshold.Parse("50%");
            Assert.False(half.Exceeded(2, 3));    // below the floor: not a mass deletion
            Assert.True(half.Exceeded(11, 20));
            Assert.False(half.Exceeded(10, 20));
            Assert.True(HaltThreshold.Parse("3").Exceeded(4, 1000));
            Assert.False(HaltThreshold.Parse("3").Exceeded(3, 1000));
        }

        [Fact]
        public void A_batch_deleting_most_of_the_replica_is_halted_against_the_size_from_the_last_whole_tree_compare()
        {
            Tree();
            _m.Session.Sync(_m.Root, new[] { SyncHint.WholeTree() }, Guarded());
            _m.Sh("rm -rf $S/big");
            var hints = SyncHint.FromEvent(ChangeType.Deleted, "big", null, true).ToList();
            var e = Assert.Throws<MassDeletionHaltedException>(() => _m.Session.Sync(_m.Root, hints, Guarded()));
            Assert.Equal(23, e.Affected);
            Assert.Equal(35, e.Total);
            Assert.True(File.Exists(Path.Combine(_m.Replica, "big", "a", "f1")));

            _m.Session.Sync(_m.Root, hints, Guarded(allow: true));
            Assert.False(Directory.Exists(Path.Combine(_m.Replica, "big")));
            Assert.Equal("", _m.Differences());
        }

        [Fact]
        public void Overwrites_count_and_small_changes_pass()
        {
            Tree();
            _m.SyncAll();
            _m.Sh("rm $S/c/f1 $S/c/f2; echo longer-content > $S/keep");
            _m.Session.Sync(_m.Root, new[] { SyncHint.WholeTree() }, Guarded());
            Assert.Equal("", _m.Differences());
            _m.Sh("for i in $(seq 3 10); do echo much-longer-content > $S/c/f$i; done");
            var e = Assert.Throws<MassDeletionHaltedException>(() => _m.Session.Sync(_m.Root, new[] { SyncHint.WholeTree() }, Guarded("5")));
            Assert.Equal(8, e.Affected);
        }

        [Fact]
        public void An_emptied_source_root_always_halts()
        {
            _m.Sh("echo 1 > $S/one");
            _m.SyncAll();
            _m.Sh("rm $S/one");
            var e = Assert.Throws<MassDeletionHaltedException>(() => _m.Session.Sync(_m.Root, new[] { SyncHint.WholeTree() }, Guarded()));
            Assert.Contains("source root is empty", e.Message);
            Assert.True(File.Exists(Path.Combine(_m.Replica, "one")));
        }
    }
}
