using System;
using System.Threading;
using RealtimeMirror.Engine.Versions;

namespace RealtimeMirror.Engine.Service
{
    internal sealed partial class TargetWorker
    {
        // This target's version policy (null: it keeps none), and when its versions area is pruned next.
        private VersionPolicy _versions;
        private DateTime _nextPrune = DateTime.MinValue;

        /// <summary>How often a worker prunes at most: a tenth of the retention, between 1 s and 10 minutes.</summary>
        internal static TimeSpan PruneIntervalFor(VersionPolicy policy)
        {
            var most = TimeSpan.FromMinutes(10);
            if (policy?.Retention is not TimeSpan r) return most;
            var tenth = TimeSpan.FromTicks(r.Ticks / 10);
            return tenth < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : tenth > most ? most : tenth;
        }

        /// <summary>
        /// After a batch, on the worker's own thread and session (nothing else touches the replica meanwhile): applies
        /// the retention to each root's versions area when due. A failure is reported and tried again next time.
        /// </summary>
        private void PruneVersionsIfDue(CancellationToken cancel)
        {
            if (_versions == null) return;
            var now = DateTime.UtcNow;
            if (now < _nextPrune) return;
            _nextPrune = now + PruneIntervalFor(_versions);
            foreach (var session in _sessions.Values)
            {
                if (cancel.IsCancellationRequested) return;
                try
                {
                    var pruned = VersionPruner.Prune(session.Replica, _versions, now, Report);
                    if (Logging.MirrorTrace.Enabled && (pruned.StampsRemoved > 0 || pruned.VersionsRemoved > 0))
                        Logging.MirrorTrace.Write($"pruned {pruned.StampsRemoved} version stamps and {pruned.VersionsRemoved} single versions");
                }
                catch (Exception e) when (!(e is OperationCanceledException)) { Report(VersionArea.DirectoryName, e); }
            }
        }
    }
}
