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
            var all = Store.Load();
            if (Name == null || Name.Length == 0) { WriteObject(all, true); return; }
            foreach (var n in Name)
            {
                var pattern = new WildcardPattern(n, WildcardOptions.IgnoreCase);
                var hits = all.Where(t => pattern.IsMatch(t.Name)).ToList();
                if (hits.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(n))
                    WriteError(new ErrorRecord(new ItemNotFoundException($"No mirror target is named '{n}'."), "TargetNotFound", ErrorCategory.ObjectNotFound, n));
                WriteObject(hits, true);
            }
        }
    }
}
