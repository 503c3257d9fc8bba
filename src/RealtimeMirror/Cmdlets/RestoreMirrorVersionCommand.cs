using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Versions;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Puts a kept version back: into the source the target mirrors (its path there), or below -Destination, with the
    /// version's mode, time and (as root) owner. The version itself stays kept; a running service mirrors the restored
    /// file again, keeping the replica's newer one as a version in turn.
    /// </summary>
    [Cmdlet(VerbsData.Restore, "MirrorVersion", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Path")]
    [OutputType(typeof(SyncResult))]
    public sealed class RestoreMirrorVersionCommand : VersionCmdletBase
    {
        /// <summary>A version from Get-MirrorVersion.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "InputObject")]
        public MirrorVersion InputObject { get; set; }

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = "Path")]
        [ArgumentCompleter(typeof(TargetNameCompleter))]
        public string Target { get; set; }

        /// <summary>The relative path whose version to restore.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = "Path")]
        public string Path { get; set; }

        /// <summary>Which version: the one kept at this time (as Get-MirrorVersion shows it); without it the newest.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = "Path")]
        public DateTime Time { get; set; }

        /// <summary>Restore below this directory (keeping the relative path) instead of into the source.</summary>
        [Parameter]
        public string Destination { get; set; }

        protected override void ProcessRecord()
        {
            MirrorTarget target;
            MirrorVersion version;
            if (ParameterSetName == "InputObject")
            {
                version = InputObject;
                target = ResolveTarget(version.Target);
                if (target == null) return;
            }
            else
            {
                target = ResolveTarget(Target);
                if (target == null) return;
                version = Find(target);
                if (version == null) return;
            }
            var destinationRoot = !string.IsNullOrEmpty(Destination) ? GetUnresolvedProviderPathFromPSPath(Destination) : version.SourceRoot;
            if (destinationRoot == null)
            {
                WriteError(new ErrorRecord(new InvalidOperationException(
                        $"Target '{target.Name}' does not know which source it mirrors (no sync has recorded it yet): give -Destination."),
                    ErrorIds.VersionSourceUnknown, ErrorCategory.InvalidArgument, version)
                { ErrorDetails = new ErrorDetails($"Target '{target.Name}' does not know which source it mirrors.") { RecommendedAction = "Restore-MirrorVersion ... -Destination DIR" } });
                return;
            }
            var full = RelativePath.ToFull(destinationRoot, version.Path);
            if (!ShouldProcess(full, $"Restore the version of {version.TimeUtc:yyyy-MM-dd HH:mm:ss.fff}Z from target '{target.Name}'")) return;
            var replica = Open(target, version.Subdirectory);
            if (replica == null) return;
            try
            {
                WriteObject(VersionRestorer.Restore(replica, version, destinationRoot, StopToken));
            }
            catch (OperationCanceledException) { throw new PipelineStoppedException(); }
            catch (FileNotFoundException e)
            {
                WriteError(new ErrorRecord(e, ErrorIds.VersionNotFound, ErrorCategory.ObjectNotFound, version));
            }
            catch (Exception e) when (ReplicaFailure.IsConnectionLost(e))
            {
                WriteTargetUnavailable(e, target);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is NotSupportedException || e is InvalidOperationException)
            {
                WriteError(new ErrorRecord(e, ErrorIds.VersionRestoreFailed, e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError, full));
            }
        }

        /// <summary>The version of -Path kept at -Time (to the millisecond), or the newest; null after writing why.</summary>
        private MirrorVersion Find(MirrorTarget target)
        {
            var rel = RelativePath.Normalize((Path ?? "").Trim('/'));
            bool byTime = MyInvocation.BoundParameters.ContainsKey(nameof(Time));
            var wanted = Time.ToUniversalTime();
            foreach (var root in RootsOf(target))
            {
                if (root.SourceRoot != null && Path.StartsWith(root.SourceRoot.TrimEnd('/') + "/", StringComparison.Ordinal))
                    rel = Path.Substring(root.SourceRoot.TrimEnd('/').Length + 1);
                var found = VersionCatalog.List(root.Replica, root.Subdirectory, root.SourceRoot, p => p == rel)
                    .FirstOrDefault(v => !byTime || Math.Abs((v.TimeUtc - wanted).TotalMilliseconds) < 1);
                if (found != null) return found;
            }
            WriteError(new ErrorRecord(new ItemNotFoundException(
                    $"Target '{target.Name}' keeps no version of '{rel}'{(byTime ? $" from {wanted:yyyy-MM-dd HH:mm:ss.fff}Z" : "")}. Get-MirrorVersion -Target {target.Name} lists what it keeps."),
                ErrorIds.VersionNotFound, ErrorCategory.ObjectNotFound, rel));
            return null;
        }
    }
}
