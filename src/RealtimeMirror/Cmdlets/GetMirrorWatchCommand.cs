using System.Linq;
using System.Management.Automation;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>Lists the watches of this session, with their counters and, for mirror services, each target's state.</summary>
    [Cmdlet(VerbsCommon.Get, "MirrorWatch")]
    [OutputType(typeof(MirrorWatchInfo))]
    public sealed class GetMirrorWatchCommand : MirrorCmdletBase
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        public int[] Id { get; set; }

        protected override void ProcessRecord()
        {
            var all = WatchRegistry.All;
            if (Id == null) { foreach (var w in all) WriteObject(MirrorWatchInfo.Of(w)); return; }
            foreach (var id in Id)
            {
                var w = all.FirstOrDefault(x => x.Id == id);
                if (w == null) WriteError(new ErrorRecord(new ItemNotFoundException($"No mirror watch has Id {id}."), "WatchNotFound", ErrorCategory.ObjectNotFound, id));
                else WriteObject(MirrorWatchInfo.Of(w));
            }
        }
    }
}
