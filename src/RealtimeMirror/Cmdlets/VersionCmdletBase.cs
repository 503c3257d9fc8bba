using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>What Get-MirrorVersion and Restore-MirrorVersion share: each target's replica roots, opened once per invocation.</summary>
    public abstract class VersionCmdletBase : MirrorCmdletBase
    {
        private readonly ReplicaPool _replicas = new ReplicaPool();

        /// <summary>One replica root of a target: its subdirectory, the source root it mirrors (when known), the open replica.</summary>
        internal sealed record ReplicaRoot(string Subdirectory, string SourceRoot, IReplica Replica);

        /// <summary>
        /// The target's replica roots: the replica root itself for one (or an unknown) source root, else one
        /// subdirectory per root (see MirrorTarget.SourcePaths). Errors are written; an unreachable target gives none.
        /// </summary>
        internal List<ReplicaRoot> RootsOf(MirrorTarget target)
        {
            var roots = new List<ReplicaRoot>();
            var sources = target.SourcePaths ?? Array.Empty<string>();
            IReadOnlyDictionary<string, string> layout;
            try { layout = sources.Length == 0 ? new Dictionary<string, string>() : MirrorTarget.SubdirectoriesFor(sources); }
            catch (ArgumentException) { layout = new Dictionary<string, string>(); }
            if (layout.Count == 0)
            {
                var r = Open(target, "");
                if (r != null) roots.Add(new ReplicaRoot("", null, r));
                return roots;
            }
            foreach (var kv in layout)
            {
                var r = Open(target, kv.Value);
                if (r != null) roots.Add(new ReplicaRoot(kv.Value, kv.Key, r));
            }
            return roots;
        }

        internal IReplica Open(MirrorTarget target, string subdirectory) =>
            _replicas.Get(target.ForSubdirectory(subdirectory), this, allowDelta: false)?.Replica;

        protected override void EndProcessing() => _replicas.Dispose();
    }
}
