using System;
using System.Threading;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Engine.Sync
{
    /// <summary>One open connection to one target, reused for every tree or event sync sent to it.</summary>
    public sealed class TargetSession : IDisposable
    {
        private TargetSession(MirrorTarget target, IReplica replica)
        {
            Target = target;
            Replica = replica;
            Events = new EventSynchronizer(replica);
        }

        public MirrorTarget Target { get; }
        public IReplica Replica { get; }
        public EventSynchronizer Events { get; }

        public static TargetSession Open(MirrorTarget target, bool acceptNewHostKey, CancellationToken cancel) =>
            new TargetSession(target, ReplicaFactory.Open(target, acceptNewHostKey, cancel));

        /// <summary>Makes the whole replica equal to <paramref name="sourceRoot"/>.</summary>
        public void SyncTree(string sourceRoot, SyncOptions options, bool allowDelta)
        {
            TreeSynchronizer.Sync(sourceRoot, "", Replica, options);
        }

        public void Dispose() => Replica.Dispose();
    }
}
