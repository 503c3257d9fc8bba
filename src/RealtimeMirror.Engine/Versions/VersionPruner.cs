using System;
using System.Collections.Generic;
using System.Linq;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Engine.Versions
{
    /// <summary>What one prune removed.</summary>
    public sealed class PruneOutcome
    {
        /// <summary>Whole stamp directories older than the retention.</summary>
        public int StampsRemoved { get; internal set; }
        /// <summary>Single versions past the count per path.</summary>
        public int VersionsRemoved { get; internal set; }
    }

    /// <summary>
    /// Applies a target's retention to its versions area: stamp directories older than the retention go whole (one
    /// delete each, decided by the stamp's name), then of each path only the newest Count versions stay. Only the
    /// versions area is ever touched, and only through the replica's own Delete.
    /// </summary>
    public static class VersionPruner
    {
        public static PruneOutcome Prune(IReplica replica, VersionPolicy policy, DateTime now, Action<string, Exception> onError = null)
        {
            var outcome = new PruneOutcome();
            if (policy == null) return outcome;
            var stamps = VersionCatalog.Stamps(replica);
            if (stamps.Count == 0) return outcome;
            if (policy.Retention is TimeSpan keep)
            {
                var cutoff = now.ToUniversalTime() - keep;
                foreach (var (stamp, time) in stamps.Where(s => s.Time < cutoff).ToList())
                {
                    if (!TryDelete(replica, VersionArea.StampDirectory(stamp), onError)) continue;
                    stamps.Remove((stamp, time));
                    outcome.StampsRemoved++;
                }
            }
            if (policy.Count is int most)
            {
                var seen = new Dictionary<string, int>(StringComparer.Ordinal);
                var touched = new List<string>();
                for (int i = stamps.Count - 1; i >= 0; i--) // newest first
                {
                    var dir = VersionArea.StampDirectory(stamps[i].Stamp);
                    bool any = false;
                    foreach (var e in ReplicaTree.Walk(replica, dir, onError).ToList())
                    {
                        if (e.Kind == EntryKind.Directory) continue;
                        var path = e.RelativePath.Substring(dir.Length + 1);
                        seen.TryGetValue(path, out var n);
                        seen[path] = ++n;
                        if (n <= most) continue;
                        if (TryDelete(replica, e.RelativePath, onError)) { outcome.VersionsRemoved++; any = true; }
                    }
                    if (any) touched.Add(dir);
                }
                foreach (var dir in touched) RemoveEmpty(replica, dir, onError);
            }
            return outcome;
        }

        /// <summary>Removes the directories below (and including) <paramref name="dir"/> that hold nothing any more.</summary>
        private static bool RemoveEmpty(IReplica replica, string dir, Action<string, Exception> onError)
        {
            List<FileMeta> list;
            try { list = replica.List(dir); }
            catch (Exception e) when (!Sync.ReplicaFailure.IsConnectionLost(e)) { onError?.Invoke(dir, e); return false; }
            bool empty = true;
            foreach (var e in list)
                if (e.Kind != EntryKind.Directory || !RemoveEmpty(replica, e.RelativePath, onError)) empty = false;
            return empty && TryDelete(replica, dir, onError);
        }

        private static bool TryDelete(IReplica replica, string rel, Action<string, Exception> onError)
        {
            if (!VersionArea.IsReserved(rel) || rel == VersionArea.DirectoryName)
                throw new InvalidOperationException($"Refusing to prune '{rel}': only entries inside the versions area are pruned.");
            try { replica.Delete(rel); return true; }
            catch (Exception e) when (!Sync.ReplicaFailure.IsConnectionLost(e)) { onError?.Invoke(rel, e); return false; }
        }
    }
}
