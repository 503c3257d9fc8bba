using System;
using System.Linq;
using System.Management.Automation;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>Removes a target from the target file. The replica's files are left alone.</summary>
    [Cmdlet(VerbsLifecycle.Unregister, "MirrorTarget", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    public sealed class UnregisterMirrorTargetCommand : MirrorCmdletBase
    {
        /// <summary>Names or wildcard patterns of the targets to remove.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(TargetNameCompleter))]
        public string[] Name { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var n in Name)
            {
                var all = LoadTargets();
                if (all == null) return;
                var matches = NameMatcher(n, out var isWildcard);
                var hits = all.Where(t => matches(t.Name)).ToList();
                if (hits.Count == 0 && !isWildcard) { WriteTargetNotFound(n); continue; }
                foreach (var target in hits)
                {
                    if (!ShouldProcess(target.Name, "Unregister mirror target")) continue;
                    try { Store.Remove(target.Name); }
                    catch (Exception e) { WriteStoreUnreadable(e); return; }
                    SessionCredentials.Forget(target.Name);
                }
            }
        }
    }
}
