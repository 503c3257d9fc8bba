using System.Linq;
using System.Management.Automation;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Cmdlets
{
    [Cmdlet(VerbsCommon.Get, "MirrorTarget")]
    [OutputType(typeof(MirrorTarget))]
    public sealed class GetMirrorTargetCommand : MirrorCmdletBase
    {
        /// <summary>Names or wildcard patterns; all targets when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(TargetNameCompleter))]
        public string[] Name { get; set; }

        protected override void ProcessRecord()
        {
            var all = LoadTargets();
            if (all == null) return;
            if (Name == null || Name.Length == 0) { WriteObject(all, true); return; }
            foreach (var n in Name)
            {
                var matches = NameMatcher(n, out var isWildcard);
                var hits = all.Where(t => matches(t.Name)).ToList();
                if (hits.Count == 0 && !isWildcard) WriteTargetNotFound(n);
                WriteObject(hits, true);
            }
        }
    }
}
