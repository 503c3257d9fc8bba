using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Makes one or more replicas equal to a source tree (-Path), or applies MirrorEvents from the pipeline.
    /// Runs on the pipeline thread: results are written as they happen; Ctrl+C stops between (and inside) transfers.
    /// </summary>
    [Cmdlet(VerbsData.Sync, "MirrorTree", SupportsShouldProcess = true, DefaultParameterSetName = "Event")]
    [OutputType(typeof(SyncResult))]
    public sealed class SyncMirrorTreeCommand : MirrorCmdletBase, IDisposable
    {
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Tree", ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "Source")]
        public string Path { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Event", ValueFromPipeline = true)]
        public MirrorEvent InputObject { get; set; }

        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        public string[] Target { get; set; }

        /// <summary>Delete replica entries the source does not have (tree mode). Event deletes always propagate.</summary>
        [Parameter(ParameterSetName = "Tree")]
        public SwitchParameter Delete { get; set; }

        [Parameter]
        [SupportsWildcards]
        public string[] Exclude { get; set; }

        /// <summary>Also emit a Skipped result for every entry already equal.</summary>
        [Parameter(ParameterSetName = "Tree")]
        public SwitchParameter IncludeSkipped { get; set; }

        /// <summary>Use whole-file SFTP even where the host has rsync.</summary>
        [Parameter]
        public SwitchParameter NoDelta { get; set; }

        private readonly ReplicaPool _replicas = new ReplicaPool();
        private readonly Stopwatch _progressClock = Stopwatch.StartNew();

        protected override void ProcessRecord()
        {
            var exclude = new GlobFilter(Exclude);
            foreach (var name in Target)
            {
                if (StopToken.IsCancellationRequested) return;
                var target = ResolveTarget(name);
                if (target == null) continue;
                if (ParameterSetName == "Tree") SyncTree(target, exclude);
                else SyncEvent(target, exclude);
            }
        }

        private void SyncTree(MirrorTarget target, GlobFilter exclude)
        {
            var root = GetUnresolvedProviderPathFromPSPath(Path);
            if (!Directory.Exists(root))
            {
                WriteError(new ErrorRecord(new DirectoryNotFoundException($"Source directory '{root}' does not exist."),
                    "SourceNotFound", ErrorCategory.ObjectNotFound, Path));
                return;
            }
            var session = _replicas.Get(target, this);
            if (session == null) return;
            var activity = $"Mirroring {root} to {target.Name}";
            try
            {
                session.SyncTree(root, Options(exclude, activity, Delete), allowDelta: !NoDelta && !AsksPerChange);
            }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (Exception e) when (ReplicaFailure.IsConnectionLost(e))
            {
                _replicas.Drop(target.Name);
                WriteTargetUnavailable(e as TargetUnavailableException
                    ?? new TargetUnavailableException($"Target '{target.Name}': connection lost: {e.Message}", e), target);
            }
            finally
            {
                WriteProgress(new ProgressRecord(1, activity, "Done") { RecordType = ProgressRecordType.Completed });
            }
        }

        private void SyncEvent(MirrorTarget target, GlobFilter exclude)
        {
            var session = _replicas.Get(target, this);
            if (session == null) return;
            try
            {
                session.Events.Apply(InputObject, Options(exclude, $"Mirroring {InputObject.WatchRoot} to {target.Name}", true));
            }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (Exception e) when (ReplicaFailure.IsConnectionLost(e))
            {
                _replicas.Drop(target.Name);
                WriteTargetUnavailable(e as TargetUnavailableException
                    ?? new TargetUnavailableException($"Target '{target.Name}': connection lost: {e.Message}", e), target);
            }
            catch (Exception e)
            {
                WriteError(new ErrorRecord(e, "EventSyncFailed", ErrorCategory.WriteError, InputObject));
            }
        }

        private SyncOptions Options(GlobFilter exclude, string activity, bool delete) => new SyncOptions
        {
            Delete = delete,
            Exclude = exclude,
            IncludeSkipped = IncludeSkipped,
            Cancel = StopToken,
            ShouldProcess = a => ShouldProcess(a.RelativePath.Length == 0 ? "(root)" : a.RelativePath, Describe(a)),
            OnResult = r => WriteObject(r),
            OnError = (rel, e) => WriteError(new ErrorRecord(e, "SyncEntryFailed",
                e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError, rel)),
            OnProgress = (done, total, current) =>
            {
                if (total < 20 || (_progressClock.ElapsedMilliseconds < 200 && done != total)) return;
                _progressClock.Restart();
                var pct = total == 0 ? 100 : (int)(100L * done / total);
                WriteProgress(new ProgressRecord(1, activity, $"{done} of {total}") { PercentComplete = pct, CurrentOperation = current ?? "" });
            },
        };

        /// <summary>-WhatIf and -Confirm need our own per-entry plan; rsync decides on the far side.</summary>
        private bool AsksPerChange =>
            MyInvocation.BoundParameters.ContainsKey("WhatIf") || MyInvocation.BoundParameters.ContainsKey("Confirm") ||
            SessionState.PSVariable.GetValue("WhatIfPreference") is SwitchParameter w && w.IsPresent ||
            SessionState.PSVariable.GetValue("WhatIfPreference") is bool b && b;

        private static string Describe(PlannedAction a)
        {
            switch (a.Kind)
            {
                case ActionKind.Delete: return "Delete from replica";
                case ActionKind.Rename: return $"Rename on replica from '{a.OldRelativePath}'";
                case ActionKind.MakeDirectory: return "Create directory on replica";
                case ActionKind.SetMetadata: return "Set mode, owner and time on replica";
                case ActionKind.MakeSymlink: return "Create symlink on replica";
                default: return "Copy to replica";
            }
        }

        protected override void EndProcessing() => _replicas.Dispose();

        /// <summary>PowerShell disposes cmdlets also after Ctrl+C or a terminating error: close connections then too.</summary>
        public void Dispose() => _replicas.Dispose();
    }
}
