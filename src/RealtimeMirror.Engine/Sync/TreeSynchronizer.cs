using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Engine.Sync
{
    /// <summary>Compares a source tree (or one subtree of it) with a replica and makes the replica equal.</summary>
    public static class TreeSynchronizer
    {
        /// <summary>Plans the work: walks both sides. <paramref name="subtree"/> "" is the whole tree.</summary>
        public static List<PlannedAction> PlanTree(string sourceRoot, string subtree, IReplica replica, SyncOptions o) =>
            PlanTree(sourceRoot, subtree, replica, o, out _);

        public static List<PlannedAction> PlanTree(string sourceRoot, string subtree, IReplica replica, SyncOptions o, out List<FileMeta> sourceEntries)
        {
            subtree = RelativePath.Normalize(subtree);
            var source = new List<FileMeta>();
            if (subtree.Length > 0)
            {
                var top = LocalFileSystem.Stat(RelativePath.ToFull(sourceRoot, subtree), subtree);
                if (top != null && !o.Exclude.IsExcluded(subtree)) source.Add(top);
            }
            bool sourceIsDir = subtree.Length == 0 || (source.Count == 1 && source[0].Kind == EntryKind.Directory);
            if (sourceIsDir)
                source.AddRange(LocalFileSystem.Walk(sourceRoot, o.Exclude, (rel, e) => o.OnError(rel, e), subtree));

            var replicaSide = new List<FileMeta>();
            var replicaTop = subtree.Length == 0 ? null : replica.Stat(subtree);
            if (replicaTop != null) replicaSide.Add(replicaTop);
            if (subtree.Length == 0 || (replicaTop != null && replicaTop.Kind == EntryKind.Directory))
                replicaSide.AddRange(((dynamic)replica).Walk(subtree)); // transitional

            // A subtree whose source vanished is deleted whole; the delete switch guards only whole-tree extras.
            bool delete = o.Delete || subtree.Length > 0;
            sourceEntries = source;
            return TreePlanner.Plan(source, replicaSide, delete, replica.CanSetOwner, o.Exclude);
        }

        /// <summary>Plans and runs; results, errors and progress go to the option callbacks.</summary>
        public static void Sync(string sourceRoot, string subtree, IReplica replica, SyncOptions o)
        {
            if (!Directory.Exists(sourceRoot))
                throw new DirectoryNotFoundException($"Source directory '{sourceRoot}' does not exist.");
            EnsureParents(sourceRoot, subtree, replica, null);
            var plan = PlanTree(sourceRoot, subtree, replica, o, out var source);
            Execute(plan, sourceRoot, replica, o);
            if (!o.IncludeSkipped) return;
            var touched = new HashSet<string>(plan.Where(p => !p.Quiet).Select(p => p.RelativePath), StringComparer.Ordinal);
            ReportSkipped(sourceRoot, source, touched, replica.TargetName, replica.TransportName, o);
        }

        /// <summary>For -IncludeSkipped: one Skipped result per source entry that no action touched.</summary>
        internal static void ReportSkipped(string sourceRoot, IEnumerable<FileMeta> source, ISet<string> touched, string target, string transport, SyncOptions o)
        {
            foreach (var s in source.Where(s => !touched.Contains(s.RelativePath)))
                o.OnResult(new SyncResult(target, s.RelativePath, SyncAction.Skipped, s.IsDirectory,
                    transport: transport, sourcePath: RelativePath.ToFull(sourceRoot, s.RelativePath)));
        }

        public static void Execute(IReadOnlyList<PlannedAction> plan, string sourceRoot, IReplica replica, SyncOptions o)
        {
            int done = 0;
            foreach (var action in plan)
            {
                o.Cancel.ThrowIfCancellationRequested();
                o.OnProgress(done++, plan.Count, action.RelativePath);
                if (!action.Quiet && !o.ShouldProcess(action)) continue;
                try
                {
                    var result = ActionRunner.Run(action, replica, sourceRoot, o.Cancel);
                    if (result != null) o.OnResult(result);
                }
                catch (Exception e) when (!ReplicaFailure.IsConnectionLost(e))
                {
                    o.OnError(action.RelativePath, e);
                }
            }
            o.OnProgress(plan.Count, plan.Count, null);
        }

        /// <summary>
        /// Makes the replica's ancestors of <paramref name="relativePath"/> exist, with the source's metadata.
        /// <paramref name="knownDirs"/> caches directories already seen on the replica (may be null).
        /// </summary>
        public static void EnsureParents(string sourceRoot, string relativePath, IReplica replica, HashSet<string> knownDirs)
        {
            foreach (var dir in RelativePath.Ancestors(RelativePath.Normalize(relativePath)))
            {
                if (knownDirs != null && knownDirs.Contains(dir)) continue;
                var there = replica.Stat(dir);
                if (there != null && there.Kind != EntryKind.Directory) { replica.Delete(dir); there = null; }
                if (there == null) replica.CreateDirectory(dir, LocalFileSystem.Stat(RelativePath.ToFull(sourceRoot, dir), dir));
                knownDirs?.Add(dir);
            }
        }
    }
}
