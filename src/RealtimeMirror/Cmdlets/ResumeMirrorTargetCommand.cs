using System;
using System.Linq;
using System.Management.Automation;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Resumes a target that a mirror service of this session halted before a mass deletion: its next plan (everything
    /// queued meanwhile, compared anew) is applied whatever it deletes. A service in another process is resumed by
    /// restarting it with Start-MirrorWatch -AllowMassDelete.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Resume, "MirrorTarget", SupportsShouldProcess = true)]
    [OutputType(typeof(string))]
    public sealed class ResumeMirrorTargetCommand : PSCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Target")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(TargetNameCompleter))]
        public string[] Name { get; set; }

        /// <summary>Emit the names of the targets resumed.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var name in Name)
            {
                var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                bool any = false;
                foreach (var service in ServiceRegistry.All.ToList())
                {
                    var halted = service.Targets.Where(t => t.State == Engine.Service.TargetState.Halted && pattern.IsMatch(t.Target)).Select(t => t.Target).ToList();
                    foreach (var t in halted)
                    {
                        if (!ShouldProcess(t, "Resume the halted target: apply the deletes it refused")) { any = true; continue; }
                        foreach (var resumed in service.Resume(n => string.Equals(n, t, StringComparison.Ordinal)))
                        {
                            any = true;
                            if (PassThru) WriteObject(resumed);
                        }
                    }
                }
                if (!any)
                    WriteError(new ErrorRecord(new ItemNotFoundException($"No halted target matches '{name}' in this session's mirror services (Get-MirrorWatch shows each target's state)."),
                        ErrorIds.HaltedTargetNotFound, ErrorCategory.ObjectNotFound, name));
            }
        }
    }
}
