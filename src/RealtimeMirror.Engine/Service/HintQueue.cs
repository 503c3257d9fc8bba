using System;
using System.Collections.Generic;
using System.Linq;
using RealtimeMirror.Engine.Planning;

namespace RealtimeMirror.Engine.Service
{
    /// <summary>
    /// One target's work: hints per root, merged per path in O(1) (a path hinted twice is compared once). A batch
    /// taken for work stays "in flight" until it completes; if it fails it is merged back, so nothing is lost.
    /// Past <see cref="_max"/> queued paths the queue folds into one whole-tree hint per root — the in-flight batch
    /// is kept, and the whole-tree compare comes after it. Not thread-safe: the worker locks around it.
    /// </summary>
    internal sealed class HintQueue
    {
        private sealed class Entry
        {
            public string Root;
            public SyncHint Hint;
            public DateTime Since;
        }

        private readonly int _max;
        private readonly Dictionary<(string Root, string Path), LinkedListNode<Entry>> _index = new Dictionary<(string, string), LinkedListNode<Entry>>();
        private readonly LinkedList<Entry> _order = new LinkedList<Entry>();
        private List<Entry> _inFlight = new List<Entry>();

        public HintQueue(int max) { _max = Math.Max(1, max); }

        public int Count => _order.Count;
        public int InFlight => _inFlight.Count;
        public long Folds { get; private set; }

        /// <summary>The time of the oldest change not yet on the replica (queued or in flight); null when none.</summary>
        public DateTime? OldestSince
        {
            get
            {
                DateTime? oldest = _order.First?.Value.Since;
                foreach (var e in _inFlight) if (oldest == null || e.Since < oldest) oldest = e.Since;
                return oldest;
            }
        }

        public void Add(string root, SyncHint hint, DateTime since)
        {
            // A queued whole-tree compare of this root, not yet started, covers any hint below it; a written file is
            // covered by the compare's ChangedSince (its ctime is no older than the change it stands for).
            if (hint.Path.Length > 0 && _index.TryGetValue((root, ""), out var whole) && whole.Value.Hint.Subtree)
            {
                if (hint.ContentChanged || hint.ChangedSince != null)
                    whole.Value.Hint = whole.Value.Hint.MergedWith(SyncHint.WholeTree(SyncHint.Earliest(hint.ChangedSince, SyncHint.ChangedSinceFor(since))));
                return;
            }
            var key = (root, hint.Path);
            if (_index.TryGetValue(key, out var node))
            {
                node.Value.Hint = hint.MergedWith(node.Value.Hint); // the newer rename origin wins
                if (since < node.Value.Since) node.Value.Since = since; // a retried change is as old as its first report
                return;
            }
            _index[key] = _order.AddLast(new Entry { Root = root, Hint = hint, Since = since });
            if (_order.Count > _max) Fold();
        }

        /// <summary>
        /// Everything queued becomes one whole-tree hint per root (the in-flight batch is untouched). The per-file
        /// "content was written" of the folded hints lives on as the whole-tree hint's ChangedSince: every file whose
        /// ctime is at or after the oldest folded change (less the report lag) is content-compared.
        /// </summary>
        private void Fold()
        {
            var roots = new Dictionary<string, (DateTime Since, DateTime? ChangedSince)>(StringComparer.Ordinal);
            foreach (var e in _order)
            {
                roots.TryGetValue(e.Root, out var r);
                var changed = SyncHint.Earliest(r.ChangedSince, SyncHint.Earliest(e.Hint.ChangedSince, SyncHint.ChangedSinceFor(e.Since)));
                roots[e.Root] = (r.Since == default || e.Since < r.Since ? e.Since : r.Since, changed);
            }
            _order.Clear();
            _index.Clear();
            foreach (var r in roots)
                _index[(r.Key, "")] = _order.AddLast(new Entry { Root = r.Key, Hint = SyncHint.WholeTree(r.Value.ChangedSince), Since = r.Value.Since });
            Folds++;
        }

        /// <summary>Takes up to <paramref name="max"/> hints into flight, grouped by root in queue order.</summary>
        public List<(string Root, List<SyncHint> Hints)> Take(int max)
        {
            var groups = new List<(string, List<SyncHint>)>();
            var byRoot = new Dictionary<string, List<SyncHint>>(StringComparer.Ordinal);
            while (_order.First != null && _inFlight.Count < max)
            {
                var e = _order.First.Value;
                _order.RemoveFirst();
                _index.Remove((e.Root, e.Hint.Path));
                _inFlight.Add(e);
                if (!byRoot.TryGetValue(e.Root, out var list)) { byRoot[e.Root] = list = new List<SyncHint>(); groups.Add((e.Root, list)); }
                list.Add(e.Hint);
            }
            return groups;
        }

        public void Complete() => _inFlight = new List<Entry>();

        /// <summary>
        /// For the batch in flight: when the change behind a path was first reported, i.e. the Since of its own hint or
        /// of a subtree hint above it (the earliest). Null for a path no hint covers. Built once per batch, so a batch
        /// of thousands of failed files costs a lookup per ancestor each.
        /// </summary>
        public Func<string, string, DateTime?> InFlightSinces()
        {
            var hints = new Dictionary<(string, string), (DateTime Since, bool Subtree)>();
            foreach (var e in _inFlight)
            {
                var key = (e.Root, e.Hint.Path);
                hints[key] = hints.TryGetValue(key, out var h)
                    ? (e.Since < h.Since ? e.Since : h.Since, h.Subtree || e.Hint.Subtree)
                    : (e.Since, e.Hint.Subtree);
            }
            return (root, path) =>
            {
                DateTime? since = hints.TryGetValue((root, path), out var own) ? own.Since : (DateTime?)null;
                foreach (var above in Paths.RelativePath.Ancestors(path).Prepend(""))
                    if (above != path && hints.TryGetValue((root, above), out var h) && h.Subtree && (since == null || h.Since < since))
                        since = h.Since;
                return since;
            };
        }

        /// <summary>The batch failed as a whole (connection lost): its hints go back to the front of the queue.</summary>
        public void Restore()
        {
            var back = _inFlight;
            _inFlight = new List<Entry>();
            for (int i = back.Count - 1; i >= 0; i--)
            {
                var e = back[i];
                var key = (e.Root, e.Hint.Path);
                if (_index.TryGetValue(key, out var node))
                {
                    node.Value.Hint = node.Value.Hint.MergedWith(e.Hint);
                    if (e.Since < node.Value.Since) node.Value.Since = e.Since;
                    continue;
                }
                _index[key] = _order.AddFirst(e);
            }
        }
    }
}
