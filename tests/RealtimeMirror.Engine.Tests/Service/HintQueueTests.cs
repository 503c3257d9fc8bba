using System;
using System.Linq;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Service;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Service
{
    /// <summary>A target's queue of hints: merged per path, bounded by folding, and never losing the batch in flight.</summary>
    public class HintQueueTests
    {
        private static readonly DateTime T0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        [Fact]
        public void A_fold_while_a_batch_is_in_flight_keeps_the_batch_and_adds_the_rescan_after_it()
        {
            var q = new HintQueue(max: 10);
            for (int i = 0; i < 5; i++) q.Add("/src", new SyncHint($"f{i}", false, true), T0);
            var batch = q.Take(100);
            Assert.Equal(5, batch.Single().Hints.Count);
            for (int i = 0; i < 50; i++) q.Add("/src", new SyncHint($"g{i}", false, true), T0.AddSeconds(1));
            Assert.Equal(1, q.Count); // folded into one whole-tree hint
            Assert.Equal(1, q.Folds);
            // The batch fails (connection lost): it comes back ahead of the rescan, nothing is lost.
            q.Restore();
            var again = q.Take(100).Single().Hints;
            Assert.Equal(new[] { "f0", "f1", "f2", "f3", "f4", "" }, again.Select(h => h.Path).ToArray());
            Assert.True(again.Last().Subtree);
            Assert.Equal(T0, q.OldestSince);
        }

        [Fact]
        public void Hints_for_one_path_merge()
        {
            var q = new HintQueue(max: 100);
            q.Add("/src", new SyncHint("d", subtree: false), T0);
            q.Add("/src", new SyncHint("d", subtree: true, renamedFrom: "c"), T0.AddSeconds(1));
            q.Add("/src", new SyncHint("d", subtree: false, contentChanged: true), T0.AddSeconds(2));
            var h = q.Take(10).Single().Hints.Single();
            Assert.True(h.Subtree);
            Assert.True(h.ContentChanged);
            Assert.Equal("c", h.RenamedFrom);
            Assert.Equal(T0, q.OldestSince);
            q.Complete();
            Assert.Null(q.OldestSince);
        }

        [Fact]
        public void A_failed_path_is_dated_by_the_hint_that_covered_it_and_a_retry_keeps_that_age()
        {
            var q = new HintQueue(max: 100);
            q.Add("/src", new SyncHint("d", subtree: true), T0);
            q.Add("/src", new SyncHint("d/e/f.txt", subtree: false, contentChanged: true), T0.AddSeconds(5));
            q.Add("/src", new SyncHint("g.txt", subtree: false, contentChanged: true), T0.AddSeconds(7));
            q.Take(100);
            var sinceOf = q.InFlightSinces();
            Assert.Equal(T0, sinceOf("/src", "d/e/f.txt"));           // the subtree hint above it is older
            Assert.Equal(T0.AddSeconds(7), sinceOf("/src", "g.txt"));
            Assert.Null(sinceOf("/src", "h.txt"));
            Assert.Null(sinceOf("/other", "g.txt"));
            q.Complete();
            // A newer change to the same path is queued, then the retry of the older failure joins it: the entry is as old as the failure.
            q.Add("/src", new SyncHint("g.txt", subtree: false, contentChanged: true), T0.AddSeconds(20));
            q.Add("/src", new SyncHint("g.txt", subtree: true, contentChanged: true, changedSince: SyncHint.ChangedSinceFor(T0.AddSeconds(7))), T0.AddSeconds(7));
            Assert.Equal(T0.AddSeconds(7), q.OldestSince);
            Assert.Equal(SyncHint.ChangedSinceFor(T0.AddSeconds(7)), q.Take(10).Single().Hints.Single().ChangedSince);
        }
    }
}
