using System.Management.Automation;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>Removes a target from the target file. The replica's files are left alone.</summary>
    [Cmdlet(VerbsLifecycle.Unregister, "MirrorTarget", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    public sealed class UnregisterMirrorTargetCommand : MirrorCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(TargetNameCompleter))]
        public string[] Name { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var n in Name)
            {
                if (ResolveTarget(n) == null) continue;
                if (!ShouldProcess(n, "Unregister mirror target")) continue;
                Store.Remove(n);
                SessionCredentials.Forget(n);
            }
        }
    }
}
