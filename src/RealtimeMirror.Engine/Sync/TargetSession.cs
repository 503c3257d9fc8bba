using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Engine.Sync
{
    /// <summary>
    /// One open connection to one target, reused for every sync sent to it. <see cref="Sync"/> is the only way
    /// anything reaches a replica: hints in, one planner, one executor.
    /// </summary>
    public sealed class TargetSession : IDisposable
    {
        /// <summary>Paths whose source kept changing while being sent are planned again this many times, then left to the next hint.</summary>
        private const int MaxRounds = 3;

        private TargetSession(MirrorTarget target, IReplica replica, DeltaPusher delta)
        {
            Target = target;
            Replica = replica;
            Delta = delta;
        }

        public MirrorTarget Target { get; }
        // Replica entries as of the last whole-tree plan, kept current by later plans: what a batch's deletes are weighed against.
        private long? _knownReplicaSize;
        public IReplica Replica { get; }
        /// <summary>Delta transfer through the host's rsync; null for local targets and hosts without rsync.</summary>
        public DeltaPusher Delta { get; }

        /// <param name="allowDelta">False: whole files over SFTP even where the host has rsync (-NoDelta).</param>
        public static TargetSession Open(MirrorTarget target, bool acceptNewHostKey, CancellationToken cancel, bool allowDelta = true)
        {
            bool wantDelta = allowDelta && DeltaPusher.Applies(target);
            // The SFTP login and the rsync login (with its probe) are independent round trips to the host, each waiting on
            // the host's login: made at once, a sync waits for the slower only. A host key not yet recorded is recorded
            // by the SFTP login (trust on first use), so then the rsync login follows it.
            var trace = Service.Logging.MirrorTrace.Current; // the rsync login's -Verbose lines go where this thread's go
            var delta = wantDelta && !acceptNewHostKey ? Task.Run(() =>
            {
                using (Service.Logging.MirrorTrace.Use(trace)) return DeltaPusher.TryOpen(target);
            }) : null;
            IReplica replica;
            try { replica = ReplicaFactory.Open(target, acceptNewHostKey, cancel); }
            catch
            {
                DisposeWhenDone(delta);
                throw;
            }
            try
            {
                var pusher = delta != null ? AwaitLogin(delta, cancel) : wantDelta ? DeltaPusher.TryOpen(target) : null;
                pusher?.SetOwnerFrom(replica);
                return new TargetSession(target, replica, pusher);
            }
            catch
            {
                replica.Dispose();
                throw;
            }
        }

        /// <summary>The rsync login made beside the SFTP one; Ctrl+C stops the wait at once, the login is closed when it ends.</summary>
        private static DeltaPusher AwaitLogin(Task<DeltaPusher> login, CancellationToken cancel)
        {
            try { login.Wait(cancel); }
            catch (OperationCanceledException)
            {
                DisposeWhenDone(login);
                throw;
            }
            catch (AggregateException) { } // the login failed: GetResult throws its own exception
            return login.GetAwaiter().GetResult(); // its own exception, not an AggregateException
        }

        private static void DisposeWhenDone(Task<DeltaPusher> login) =>
            login?.ContinueWith(t => t.Result?.Dispose(), TaskContinuationOptions.OnlyOnRanToCompletion);

        /// <summary>
        /// Makes the replica equal to the source wherever the hints point. Renames the planner can prove run first
        /// (not under -WhatIf, whose plan must not depend on changes it will not make); then the compare.
        /// Returns the paths that failed (per-entry errors, reported already) for the caller's retry set.
        /// </summary>
        public IReadOnlyList<string> Sync(SourceRoot source, IEnumerable<SyncHint> hints, SyncOptions o)
        {
            var list = hints.ToList();
            if (source.EnsureCurrent())
            {
                // A new root directory (removed and made again, or another moved in its place): compare it whole, and by
                // content from the earliest moment the hints know changes may have gone unseen (the retry of the failed
                // root carries when it went missing; a Rescan when its events were lost). A restored tree can repeat the
                // old sizes and mtimes with other content. Without such a moment, every file is compared by content.
                var since = list.Select(h => h.ChangedSince).Aggregate((DateTime?)null, SyncHint.Earliest) ?? DateTime.UnixEpoch;
                list = new List<SyncHint> { SyncHint.WholeTree(since) };
            }
            RefuseOverlap(source.Path);
            var planner = new Planner(source.Handle, Replica, o.Exclude, source.Links, o.Delete, viaRsync: Delta != null);
            var executor = new PlanExecutor(source, Replica, Delta);
            var failed = new List<string>();
            for (int round = 0; round < MaxRounds && list.Count > 0; round++)
            {
                o.Cancel.ThrowIfCancellationRequested();
                if (!o.DryRun)
                {
                    var renames = planner.PlanRenames(list);
                    if (renames.Count > 0)
                    {
                        var renamePlan = new Plan();
                        renamePlan.Actions.AddRange(renames);
                        executor.Execute(renamePlan, o);
                        list = FollowRenamedDirectories(list, renames);
                    }
                }
                var plan = planner.Plan(list);
                if (!o.DryRun) MassDeletionGuard.Check(Target.Name, plan, Replica, source.Handle, o, ref _knownReplicaSize);
                if (o.IncludeSkipped) ReportSkipped(plan, o);
                plan.Skipped.RemoveAll(skip => !source.FirstSkipWarning(skip.Path, skip.Why));
                var outcome = executor.Execute(plan, o);
                failed.AddRange(outcome.Failed);
                list = outcome.Replan.Distinct(StringComparer.Ordinal).Select(p => new SyncHint(p, subtree: false, contentChanged: true)).ToList();
            }
            return failed;
        }

        /// <summary>
        /// A hint queued under a directory before it was renamed names the old path, where neither side has the entry
        /// now: the moved copy is what it stands for. It is kept, and also given at the new path, so a change that
        /// size and mtime cannot show (a same-second rewrite) is still content-compared after the replica's rename.
        /// </summary>
        private static List<SyncHint> FollowRenamedDirectories(List<SyncHint> hints, List<PlannedAction> renames)
        {
            var moves = renames.Where(r => r.Source?.Kind == EntryKind.Directory).ToList();
            if (moves.Count == 0) return hints;
            var followed = new List<SyncHint>(hints);
            foreach (var h in hints)
            {
                var path = RelativePath.Normalize(h.Path);
                foreach (var m in moves)
                    if (RelativePath.IsUnder(path, m.OldRelativePath))
                    {
                        var moved = RelativePath.Moved(path, m.OldRelativePath, m.RelativePath);
                        followed.Add(new SyncHint(moved, h.Subtree, h.ContentChanged, h.RenamedFrom, h.ChangedSince));
                        break;
                    }
            }
            return followed;
        }

        /// <summary>
        /// A local replica inside the source would mirror itself forever; one that contains the source would delete the
        /// source. Both are refused before anything is written.
        /// </summary>
        private void RefuseOverlap(string sourcePath)
        {
            if (Target.Kind != TargetKind.Local) return;
            if (Platform.TreeOverlap.Overlaps(Target.Path, sourcePath))
                throw new TargetOverlapsSourceException($"Target '{Target.Name}' ({Target.Path}) overlaps the source '{sourcePath}': a replica must be neither inside the source nor contain it. Nothing was written.");
        }

        private void ReportSkipped(Plan plan, SyncOptions o)
        {
            var touched = new HashSet<string>(plan.Actions.Where(a => !a.Quiet).Select(a => a.RelativePath), StringComparer.Ordinal);
            foreach (var path in plan.Compared)
                if (!touched.Contains(path))
                    o.OnResult(new Results.SyncResult(Target.Name, path, Results.SyncAction.Skipped, transport: Replica.TransportName));
        }

        public void Dispose()
        {
            Delta?.Dispose();
            Replica.Dispose();
        }
    }

    /// <summary>A local replica inside the source, or containing it: refused before anything is written.</summary>
    public sealed class TargetOverlapsSourceException : InvalidOperationException
    {
        public TargetOverlapsSourceException(string message) : base(message) { }
    }
}
