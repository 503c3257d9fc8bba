using System;
using System.Management.Automation;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Versions;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>A one-shot sync applies its target's retention afterwards too, as the service does in the background.</summary>
    internal static class VersionRetention
    {
        public static void PruneAfterSync(PSCmdlet cmdlet, TargetSession session, MirrorTarget target, bool whatIf)
        {
            var policy = VersionPolicy.For(target);
            if (policy == null || whatIf) return;
            var pruned = VersionPruner.Prune(session.Replica, policy, DateTime.UtcNow, (rel, e) =>
                cmdlet.WriteError(TargetErrors.VersionEntry(ErrorIds.VersionPruneFailed, ErrorCategory.WriteError, target.Name, rel, e)));
            if (pruned.StampsRemoved + pruned.VersionsRemoved > 0)
                cmdlet.WriteVerbose($"{target.Name}: pruned {pruned.StampsRemoved} version stamps past the retention and {pruned.VersionsRemoved} versions past the count.");
        }
    }
}
