using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Takes settled change events from watches. Without -Wait or -Timeout it returns what is queued now;
    /// with -Timeout it streams for that long; with -Wait it streams until Ctrl+C or the watch stops.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "MirrorEvent", DefaultParameterSetName = "Watch")]
    [OutputType(typeof(MirrorEvent))]
    public sealed class GetMirrorEventCommand : MirrorCmdletBase
    {
        [Parameter(Position = 0, ParameterSetName = "Watch", ValueFromPipeline = true)]
        public MirrorWatch[] Watch { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Id", ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(WatchIdCompleter))]
        public int[] Id { get; set; }

        [Parameter]
        public SwitchParameter Wait { get; set; }

        /// <summary>Seconds to keep streaming.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public double Timeout { get; set; } = -1;

        private readonly List<MirrorWatch> _watches = new List<MirrorWatch>();

        protected override void ProcessRecord()
        {
            if (Watch != null) _watches.AddRange(Watch);
            if (Id != null)
                foreach (var id in Id)
                {
                    var w = WatchRegistry.Get(id);
                    if (w == null) WriteError(new ErrorRecord(new ItemNotFoundException($"No mirror watch has Id {id}."), ErrorIds.WatchNotFound, ErrorCategory.ObjectNotFound, id));
                    else _watches.Add(w);
                }
        }

        // Streaming starts once all watches are known: with several piped in, the first must not block the rest.
        protected override void EndProcessing()
        {
            var watches = _watches.Count > 0 ? _watches.Distinct().ToList()
                : (MyInvocation.BoundParameters.ContainsKey(nameof(Id)) ? new List<MirrorWatch>() : WatchRegistry.All.ToList());
            foreach (var w in watches)
                if ((ServiceRegistry.For(w.Id) != null))
                    WriteError(new ErrorRecord(new InvalidOperationException($"Watch {w.Id} feeds a mirror service; its events go to the targets. Start another watch to read events."),
                        ErrorIds.WatchOwnedByService, ErrorCategory.ResourceBusy, w.Id));
            watches = watches.Where(w => !(ServiceRegistry.For(w.Id) != null)).ToList();
            if (watches.Count == 0) return;

            var clock = Stopwatch.StartNew();
            bool stream = Wait || Timeout >= 0;
            try
            {
                while (true)
                {
                    bool gotAny = false;
                    foreach (var w in watches)
                    {
                        // Drain what is ready, then wait a little on the next watch in turn.
                        while (w.TryTake(out var e, 0, StopToken)) { WriteObject(e); gotAny = true; }
                    }
                    if (!stream) return;
                    if (Timeout >= 0 && clock.Elapsed.TotalSeconds >= Timeout) return;
                    if (watches.All(w => w.State != WatchState.Running) && !gotAny) return;
                    if (!gotAny)
                    {
                        var wait = watches.Count == 1 ? 250 : 25;
                        if (Timeout >= 0) wait = (int)Math.Max(1, Math.Min(wait, (Timeout - clock.Elapsed.TotalSeconds) * 1000));
                        if (watches[0].TryTake(out var first, wait, StopToken)) WriteObject(first);
                    }
                }
            }
            catch (OperationCanceledException) { }
        }
    }
}
