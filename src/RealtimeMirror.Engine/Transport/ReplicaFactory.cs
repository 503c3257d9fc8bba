using System.Threading;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Engine.Transport
{
    public static class ReplicaFactory
    {
        /// <summary>Creates and opens the replica for a target; throws TargetUnavailableException with the reason.</summary>
        public static IReplica Open(MirrorTarget target, bool acceptNewHostKey, CancellationToken cancel)
        {
            IReplica replica = target.Kind == TargetKind.Local
                ? new LocalReplica(target.Name, target.Path, target.PreserveOwner)
                : (IReplica)new SftpReplica(target, acceptNewHostKey);
            try
            {
                replica.Open(cancel);
                return replica;
            }
            catch (System.Exception e) when (!(e is TargetUnavailableException))
            {
                replica.Dispose();
                if (e is System.OperationCanceledException) throw;
                throw new ReplicaRootUnavailableException($"Target '{target.Name}': cannot open the replica root: {e.Message}", e);
            }
            catch
            {
                replica.Dispose();
                throw;
            }
        }
    }
}
