using System.Management.Automation;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>Stops a watch (and the mirror service it feeds). Events not yet applied are dropped.</summary>
    [Cmdlet(VerbsLifecycle.Stop, "MirrorWatch", SupportsShouldProcess = true)]
    public sealed class StopMirrorWatchCommand : MirrorCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        public int[] Id { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var id in Id)
            {
                if (WatchRegistry.Get(id) == null)
                {
                    WriteError(new ErrorRecord(new ItemNotFoundException($"No mirror watch has Id {id}."), "WatchNotFound", ErrorCategory.ObjectNotFound, id));
                    continue;
                }
                if (!ShouldProcess($"watch {id}", "Stop mirror watch")) continue;
                ServiceRegistry.Detach(id);
                WatchRegistry.Stop(id);
            }
        }
    }
}
