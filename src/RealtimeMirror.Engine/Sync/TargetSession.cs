using System;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Engine.Sync
{
    /// <summary>One open connection to one target, reused for every tree or event sync sent to it.</summary>
    public sealed class TargetSession : IDisposable
    {
        private TargetSession(MirrorTarget target, IReplica replica, DeltaPusher delta)
        {
            Target = target;
            Replica = replica;
            Delta = delta;
            Events = new EventSynchronizer(replica, delta);
        }

        public MirrorTarget Target { get; }
        public IReplica Replica { get; }
        public EventSynchronizer Events { get; }
        /// <summary>Delta transfer through the host's rsync; null for local targets and hosts without rsync.</summary>
        public DeltaPusher Delta { get; }

        public static TargetSession Open(MirrorTarget target, bool acceptNewHostKey, CancellationToken cancel)
        {
            var replica = ReplicaFactory.Open(target, acceptNewHostKey, cancel);
            try
            {
                return new TargetSession(target, replica, DeltaPusher.TryOpen(target, replica.CanSetOwner));
            }
            catch
            {
                replica.Dispose();
                throw;
            }
        }

        /// <summary>
        /// Makes the whole replica equal to <paramref name="sourceRoot"/>: through rsync when the host has it and
        /// <paramref name="allowDelta"/> (not under -WhatIf/-Confirm, which need our own per-entry plan), else by plan over SFTP.
        /// </summary>
        public void SyncTree(string sourceRoot, SyncOptions o, bool allowDelta)
        {
            // The rsync push never deletes (our planner does): a sync that must delete goes by plan.
            if (Delta == null || !allowDelta || o.Delete)
            {
                TreeSynchronizer.Sync(sourceRoot, "", Replica, o);
                return;
            }
            if (!System.IO.Directory.Exists(sourceRoot))
                throw new System.IO.DirectoryNotFoundException($"Source directory '{sourceRoot}' does not exist.");
            var entries = Platform.LocalFileSystem.Walk(sourceRoot, o.Exclude, (rel, e) => o.OnError(rel, e)).ToList();
            int files = entries.Count(e => e.Kind == Planning.EntryKind.File), done = 0;
            o.OnProgress(0, files, null);
            var reported = o.IncludeSkipped ? new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal) : null;
            Transport.Rsync.RsyncPushOutcome outcome;
            using (var source = Platform.DirectoryHandle.Open(sourceRoot))
                outcome = Delta.Push(source, entries, ignoreTimes: false, ioError: false, r =>
                {
                    reported?.Add(r.RelativePath);
                    o.OnProgress(++done, Math.Max(files, done), r.RelativePath);
                    o.OnResult(r);
                }, o.OnError, o.Cancel);
            foreach (var p in outcome.ReplanPaths) TreeSynchronizer.Sync(sourceRoot, p, Replica, o); // not sent as listed: by plan
            o.OnProgress(files, files, null);
            if (reported != null) TreeSynchronizer.ReportSkipped(sourceRoot, entries, reported, Target.Name, DeltaPusher.TransportName, o);
        }

        public void Dispose()
        {
            Delta?.Dispose();
            Replica.Dispose();
        }
    }
}
