using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
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
    /// Makes one or more replicas equal to a source tree (-Path), or brings them up to date with MirrorEvents from the
    /// pipeline. Both go through the engine's one planner: an event only says where to look. Runs on the pipeline
    /// thread: results are written as they happen; Ctrl+C stops between (and inside) transfers.
    /// </summary>
    [Cmdlet(VerbsData.Sync, "MirrorTree", SupportsShouldProcess = true, DefaultParameterSetName = "Event")]
    [OutputType(typeof(SyncResult))]
    public sealed class SyncMirrorTreeCommand : TargetSettingsCmdletBase, IDisposable
    {
        /// <summary>
        /// The source directory; wildcards allowed. Several matching directories each go to their own replica
        /// subdirectory (named after their last segment), as piped directories do.
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Tree")]
        [Alias("Source")]
        [SupportsWildcards]
        public string Path { get; set; }

        /// <summary>The source directory, taken exactly as typed: no wildcard characters ([ ] * ?) are interpreted.</summary>
        [Parameter(Mandatory = true, ParameterSetName = "LiteralTree")]
        [Alias("LP")]
        public string LiteralPath { get; set; }

        /// <summary>
        /// A MirrorEvent, live or deserialized (Import-Clixml, remoting): it always binds here, never as a tree path,
        /// so an event can never turn into "mirror this directory onto the replica root". Not Mandatory on purpose: a
        /// forgotten -Path is an error saying what is missing (SourceMissing), not a prompt for an "InputObject".
        /// </summary>
        [Parameter(ParameterSetName = "Event", ValueFromPipeline = true)]
        public PSObject InputObject { get; set; }

        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(TargetNameCompleter))]
        public string[] Target { get; set; }

        /// <summary>Delete replica entries the source does not have (tree mode). With events it is refused: deletes the
        /// source confirms always propagate there.</summary>
        [Parameter]
        public SwitchParameter Delete { get; set; }

        /// <summary>Also emit a Skipped result for every entry already equal.</summary>
        [Parameter(ParameterSetName = "Tree")]
        [Parameter(ParameterSetName = "LiteralTree")]
        public SwitchParameter IncludeSkipped { get; set; }

        /// <summary>Use whole-file SFTP even where the host has rsync.</summary>
        [Parameter]
        public SwitchParameter NoDelta { get; set; }

        /// <summary>Apply the plan even when it would delete or overwrite more of the replica than the halt threshold allows.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private readonly ReplicaPool _replicas = new ReplicaPool();
        private readonly Dictionary<string, SourceRoot> _sources = new Dictionary<string, SourceRoot>(StringComparer.Ordinal);
        private readonly Stopwatch _progressClock = Stopwatch.StartNew();

        // Directories that arrived through the pipeline (Get-ChildItem, objects with a Path): mirrored together at the end.
        private readonly List<(string Root, object Input, string[] Targets)> _pipedTrees = new List<(string, object, string[])>();

        protected override void ProcessRecord()
        {
            if (ParameterSetName == "LiteralTree")
            {
                var root = GetUnresolvedProviderPathFromPSPath(LiteralPath);
                if (CheckSourceDirectory(root, LiteralPath)) SyncTree(root, "", LiteralPath, Target);
                return;
            }
            if (ParameterSetName == "Tree")
            {
                if (!WildcardPattern.ContainsWildcardCharacters(Path))
                {
                    var root = GetUnresolvedProviderPathFromPSPath(Path);
                    if (CheckSourceDirectory(root, Path)) SyncTree(root, "", Path, Target);
                    return;
                }
                SyncWildcardPath();
                return;
            }
            if (InputObject == null && !MyInvocation.ExpectingInput)
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("Sync-MirrorTree needs a source: -Path DIR (or -LiteralPath DIR), or MirrorEvents or directories from the pipeline."),
                    ErrorIds.SourceMissing, ErrorCategory.InvalidArgument, null));
            var e = AsEvent(InputObject);
            if (e != null)
            {
                if (Delete)
                    ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Delete applies to a tree sync (-Path). With events, deletes the source confirms are mirrored anyway."),
                        ErrorIds.DeleteWithEvents, ErrorCategory.InvalidArgument, e));
                var hints = new List<SyncHint>(SyncHint.FromEvent(e));
                SyncToTargets(e.WatchRoot, e.ReplicaSubdirectory, hints, e, Target, treeSync: false);
                return;
            }
            var piped = PathOf(InputObject);
            if (piped == null)
            {
                WriteError(new ErrorRecord(new ArgumentException("Sync-MirrorTree takes MirrorEvent objects (from Get-MirrorEvent) or directories (objects with a FullName or Path) from the pipeline."),
                    ErrorIds.NotAMirrorEvent, ErrorCategory.InvalidArgument, InputObject));
                return;
            }
            var full = GetUnresolvedProviderPathFromPSPath(piped);
            if (CheckSourceDirectory(full, piped)) _pipedTrees.Add((full, InputObject, Target));
        }

        /// <summary>
        /// One piped directory mirrors onto the replica root, like -Path. Several (Get-ChildItem -Directory | ...)
        /// each go to their own subdirectory, named after their last segment, as a service with several roots does:
        /// mirrored onto one root they would overwrite, and with -Delete erase, each other.
        /// </summary>
        protected override void EndProcessing()
        {
            try
            {
                if (_pipedTrees.Count == 0) return;
                IReadOnlyDictionary<string, string> subdirectories;
                try { subdirectories = MirrorTarget.SubdirectoriesFor(_pipedTrees.Select(t => t.Root).Distinct().ToList()); }
                catch (ArgumentException e)
                {
                    WriteError(new ErrorRecord(e, ErrorIds.SourceNameClash, ErrorCategory.InvalidArgument, _pipedTrees.Select(t => t.Root).Distinct().ToArray()));
                    return;
                }
                foreach (var (root, input, targets) in _pipedTrees)
                {
                    if (StopToken.IsCancellationRequested) return;
                    SyncTree(root, subdirectories[root], input, targets);
                }
            }
            finally { Dispose(); }
        }

        /// <summary>
        /// -Path with wildcards: the matching directories (files are not trees). One goes onto the replica root; several
        /// each go to their own subdirectory. A pattern that matches no directory is a SourceNotFound error.
        /// </summary>
        private void SyncWildcardPath()
        {
            var matches = DirectoriesMatching(Path, "Nothing was synced.");
            if (matches.Count == 0) return;
            if (matches.Count == 1) { SyncTree(matches[0], "", Path, Target); return; }
            IReadOnlyDictionary<string, string> subdirectories;
            try { subdirectories = MirrorTarget.SubdirectoriesFor(matches); }
            catch (ArgumentException e)
            {
                WriteError(new ErrorRecord(e, ErrorIds.SourceNameClash, ErrorCategory.InvalidArgument, Path));
                return;
            }
            foreach (var root in matches)
            {
                if (StopToken.IsCancellationRequested) return;
                SyncTree(root, subdirectories[root], root, Target);
            }
        }

        private bool CheckSourceDirectory(string full, object input) =>
            IsSourceDirectory(full, input, $"'{full}' is a file; Sync-MirrorTree mirrors directories.", $"Source directory '{full}' does not exist.");

        private void SyncTree(string root, string subdirectory, object input, string[] targets) =>
            SyncToTargets(root, subdirectory, new List<SyncHint> { SyncHint.WholeTree() }, input, targets, treeSync: true);

        private void SyncToTargets(string root, string subdirectory, List<SyncHint> hints, object errorTarget, string[] targets, bool treeSync)
        {
            if (!_sources.TryGetValue(root, out var source)) _sources[root] = source = new SourceRoot(root);
            var commandLine = new List<string>(Exclude ?? Array.Empty<string>());
            commandLine.AddRange(ExcludeFilePatterns());
            foreach (var name in targets)
            {
                if (StopToken.IsCancellationRequested) return;
                var target = ForThisRun(ResolveTarget(name));
                if (target == null) continue;
                GlobFilter exclude;
                try { exclude = TargetSettings.ExcludeFor(target, commandLine); }
                catch (ExcludeFileUnreadableException e)
                {
                    WriteError(TargetErrors.For(target.Name, "", e));
                    continue;
                }
                SyncOne(target.ForSubdirectory(subdirectory), source, hints, exclude, errorTarget, DeletesFor(target, treeSync));
                if (!IsWhatIf && string.IsNullOrEmpty(subdirectory)) SourcePathMemory.Remember(Store, target.Name, new[] { root }); // where versions restore to
            }
        }

        /// <summary>
        /// -Delete or -DeleteMode from the command line, else the target's saved mode, else today's defaults: a tree
        /// sync deletes only with -Delete, piped events mirror the deletes the source confirms.
        /// </summary>
        private bool DeletesFor(MirrorTarget target, bool treeSync)
        {
            DeleteMode? mode = BoundDeleteMode ?? (Delete ? Engine.Targets.DeleteMode.Always : target.DeleteMode);
            if (mode == null) return !treeSync;
            return treeSync ? TargetSettings.DeletesAtStartup(mode.Value) : TargetSettings.DeletesWhileRunning(mode.Value);
        }

        /// <summary>The directory a piped object names: a DirectoryInfo, or any object with a FullName or Path property.</summary>
        private static string PathOf(PSObject o)
        {
            if (o?.BaseObject is FileSystemInfo fsi) return fsi.FullName;
            if (o?.BaseObject is string text) return text;
            return (o?.Properties["FullName"]?.Value ?? o?.Properties["Path"]?.Value) as string;
        }

        /// <summary>A live MirrorEvent, or one rebuilt from a deserialized copy (its properties survive Export-Clixml).</summary>
        private static MirrorEvent AsEvent(PSObject o)
        {
            if (o?.BaseObject is MirrorEvent live) return live;
            if (o == null) return null;
            bool named = false;
            foreach (var t in o.TypeNames) if (t.EndsWith("RealtimeMirror.Engine.Events.MirrorEvent", StringComparison.Ordinal)) named = true;
            var root = o.Properties["WatchRoot"]?.Value as string;
            var rel = o.Properties["RelativePath"]?.Value as string;
            var kindText = o.Properties["ChangeType"]?.Value?.ToString();
            if (!named || string.IsNullOrEmpty(root) || rel == null || !Enum.TryParse<ChangeType>(kindText, out var kind)) return null;
            bool isDir = o.Properties["IsDirectory"]?.Value is bool b && b;
            var old = o.Properties["OldRelativePath"]?.Value as string;
            var subdirectory = o.Properties["ReplicaSubdirectory"]?.Value as string ?? "";
            var watchId = o.Properties["WatchId"]?.Value is int id ? id : 0;
            return new MirrorEvent(root, rel, kind, isDir, null, DateTime.UtcNow, old, watchId, subdirectory);
        }

        private void SyncOne(MirrorTarget target, SourceRoot source, List<SyncHint> hints, GlobFilter exclude, object errorTarget, bool delete)
        {
            var session = _replicas.Get(target, this, allowDelta: !NoDelta);
            if (session == null) return;
            var activity = $"Mirroring {source.Path} to {target.Name}";
            try
            {
                session.Sync(source, hints, Options(exclude, activity, delete, target));
                VersionRetention.PruneAfterSync(this, session, target, IsWhatIf);
            }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (SourceRootMissingException e)
            {
                WriteError(new ErrorRecord(e, ErrorIds.SourceNotFound, ErrorCategory.ObjectNotFound, errorTarget));
            }
            catch (Exception e) when (ReplicaFailure.IsConnectionLost(e))
            {
                _replicas.Drop(target.Name);
                WriteTargetUnavailable(e, target);
            }
            catch (Exception e) when (e is MassDeletionHaltedException || e is TargetOverlapsSourceException)
            {
                WriteError(TargetErrors.For(target.Name, "", e));
            }
            finally
            {
                WriteProgress(new ProgressRecord(1, activity, "Done") { RecordType = ProgressRecordType.Completed });
            }
        }

        private SyncOptions Options(GlobFilter exclude, string activity, bool delete, MirrorTarget target) => new SyncOptions
        {
            HaltThreshold = Engine.Sync.HaltThreshold.Parse(target.HaltThreshold ?? Engine.Sync.HaltThreshold.DefaultText),
            AllowMassDelete = Force,
            KeepVersions = Engine.Versions.VersionPolicy.For(target),
            Delete = delete,
            Exclude = exclude,
            IncludeSkipped = IncludeSkipped,
            DryRun = IsWhatIf,
            Cancel = StopToken,
            ShouldProcess = a => ShouldProcess(a.RelativePath.Length == 0 ? "(root)" : a.RelativePath, Describe(a)),
            OnResult = r => WriteObject(r),
            OnError = (rel, e) => WriteError(TargetErrors.For(target.Name, rel, e)),
            OnWarning = (rel, why) => WriteWarning($"{rel}: {why}"),
            OnProgress = (done, total, current) =>
            {
                if (total < 20 || (_progressClock.ElapsedMilliseconds < 200 && done != total)) return;
                _progressClock.Restart();
                var pct = total == 0 ? 100 : (int)(100L * done / total);
                WriteProgress(new ProgressRecord(1, activity, $"{done} of {total}") { PercentComplete = pct, CurrentOperation = current ?? "" });
            },
        };

        private bool IsWhatIf =>
            MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) ? ((SwitchParameter)w).IsPresent :
            SessionState.PSVariable.GetValue("WhatIfPreference") is SwitchParameter s ? s.IsPresent :
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
                case ActionKind.MakeSpecial: return "Create special file on replica";
                default: return "Copy to replica";
            }
        }

        /// <summary>PowerShell disposes cmdlets also after Ctrl+C or a terminating error: close connections then too.</summary>
        public void Dispose()
        {
            _replicas.Dispose();
            foreach (var s in _sources.Values) s.Dispose();
            _sources.Clear();
        }
    }
}
