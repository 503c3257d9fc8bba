using System;
using System.Management.Automation;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Stops a watch (and the mirror service it feeds). In this session events not yet applied are dropped. A service
    /// in another process (-ProcessId) is sent SIGTERM, once its status file shows that pid is still the same process.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Stop, "MirrorWatch", SupportsShouldProcess = true)]
    public sealed class StopMirrorWatchCommand : MirrorCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(WatchIdCompleter))]
        public int[] Id { get; set; }

        /// <summary>The process running the watch; omitted or this process's id: this session.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public int ProcessId { get; set; }

        protected override void ProcessRecord()
        {
            bool here = ProcessId == 0 || ProcessId == ProcessIdentity.CurrentId;
            foreach (var id in Id)
            {
                if (here) StopHere(id);
                else StopInOtherProcess(id, ProcessId);
            }
        }

        private void StopHere(int id)
        {
            if (WatchRegistry.Get(id) == null)
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"No mirror watch has Id {id} in this session. A service in another process needs -ProcessId too (Get-MirrorWatch | Stop-MirrorWatch passes it)."),
                    ErrorIds.WatchNotFound, ErrorCategory.ObjectNotFound, id));
                return;
            }
            if (!ShouldProcess($"watch {id}", "Stop mirror watch")) return;
            ServiceRegistry.Detach(id);
            WatchRegistry.Stop(id);
        }

        private void StopInOtherProcess(int id, int pid)
        {
            ServiceStatusFile status;
            try { status = ServiceStatusFile.ReadLive(RuntimeDirectory.Resolve(), pid, id); }
            catch (Exception e)
            {
                WriteError(new ErrorRecord(e, ErrorIds.ServiceStatusUnreadable, ErrorCategory.ReadError, $"{pid}:{id}"));
                return;
            }
            if (status == null)
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"No running mirror service has Id {id} in process {pid}."),
                    ErrorIds.WatchNotFound, ErrorCategory.ObjectNotFound, $"{pid}:{id}"));
                return;
            }
            if (!ShouldProcess($"mirror service {id} in process {pid} ({string.Join(", ", status.Paths)})", "Stop (send SIGTERM)")) return;
            bool sent;
            try { sent = ProcessIdentity.Terminate(status.ProcessId, status.ProcessStartMark); }
            catch (Exception e)
            {
                WriteError(new ErrorRecord(e, ErrorIds.ServiceSignalFailed, ErrorCategory.PermissionDenied, $"{pid}:{id}"));
                return;
            }
            if (!sent)
                WriteError(new ErrorRecord(new ItemNotFoundException($"Process {pid} has ended (or its pid now belongs to another process); nothing was signalled."),
                    ErrorIds.WatchNotFound, ErrorCategory.ObjectNotFound, $"{pid}:{id}"));
        }
    }
}
