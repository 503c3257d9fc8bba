using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Lists the watches of this session and the mirror services of other processes on this machine (from their
    /// status files in the runtime directory), with their counters and each target's state.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "MirrorWatch")]
    [OutputType(typeof(MirrorWatchInfo))]
    public sealed class GetMirrorWatchCommand : MirrorCmdletBase
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(WatchIdCompleter))]
        public int[] Id { get; set; }

        /// <summary>Only watches of these processes.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public int[] ProcessId { get; set; }

        protected override void ProcessRecord()
        {
            var all = WatchRegistry.All.Select(MirrorWatchInfo.Of).Concat(OtherProcesses().Select(MirrorWatchInfo.Of))
                .Where(w => ProcessId == null || ProcessId.Contains(w.ProcessId)).ToList();
            if (Id == null) { foreach (var w in all) WriteObject(w); return; }
            foreach (var id in Id)
            {
                var matches = all.Where(x => x.Id == id).ToList();
                if (matches.Count == 0) WriteError(new ErrorRecord(new ItemNotFoundException($"No mirror watch has Id {id}."), ErrorIds.WatchNotFound, ErrorCategory.ObjectNotFound, id));
                foreach (var w in matches) WriteObject(w);
            }
        }

        private List<ServiceStatusFile> OtherProcesses()
        {
            var problems = new List<string>();
            var directory = RuntimeDirectory.Resolve();
            List<ServiceStatusFile> found;
            try { found = ServiceStatusFile.ReadOthers(directory, problems); }
            catch (IOException e) { problems.Add($"Cannot list '{directory}': {e.Message}"); found = new List<ServiceStatusFile>(); }
            catch (System.UnauthorizedAccessException e) { problems.Add($"Cannot list '{directory}': {e.Message}"); found = new List<ServiceStatusFile>(); }
            // Another process's files are not this command's failure: say so, and list what could be read.
            foreach (var p in problems) WriteWarning(p);
            return found;
        }
    }
}
