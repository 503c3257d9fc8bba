using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Versions;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Lists the versions a target keeps (what the mirror moved aside when it deleted or overwrote a replica file),
    /// newest first, as MirrorVersion objects for Restore-MirrorVersion.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "MirrorVersion")]
    [OutputType(typeof(MirrorVersion))]
    public sealed class GetMirrorVersionCommand : VersionCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(TargetNameCompleter))]
        public string[] Target { get; set; }

        /// <summary>Relative paths (or full source paths) to list; wildcards match across '/'; a plain path also matches what was below it.</summary>
        [Parameter(Position = 1)]
        [SupportsWildcards]
        public string[] Path { get; set; }

        /// <summary>Only versions kept at or after this time.</summary>
        [Parameter]
        public DateTime Since { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var name in Target)
            {
                foreach (var target in Matching(name))
                {
                    foreach (var root in RootsOf(target))
                    {
                        var include = Matcher(root.SourceRoot);
                        try
                        {
                            foreach (var v in VersionCatalog.List(root.Replica, root.Subdirectory, root.SourceRoot, include,
                                         MyInvocation.BoundParameters.ContainsKey(nameof(Since)) ? Since : (DateTime?)null,
                                         (rel, e) => WriteError(TargetErrors.VersionEntry(ErrorIds.VersionListFailed, ErrorCategory.ReadError, target.Name, rel, e))))
                            {
                                if (StopToken.IsCancellationRequested) throw new PipelineStoppedException();
                                WriteObject(v);
                            }
                        }
                        catch (Exception e) when (ReplicaFailure.IsConnectionLost(e) && !(e is OperationCanceledException))
                        {
                            WriteTargetUnavailable(e, target);
                        }
                    }
                }
            }
        }

        private IEnumerable<MirrorTarget> Matching(string name)
        {
            var match = NameMatcher(name, out bool isWildcard);
            if (!isWildcard)
            {
                var t = ResolveTarget(name);
                if (t != null) yield return t;
                yield break;
            }
            var all = LoadTargets();
            if (all == null) yield break;
            foreach (var t in all.Where(t => match(t.Name)))
            {
                var resolved = ResolveTarget(t.Name); // with this session's password, if any
                if (resolved != null) yield return resolved;
            }
        }

        /// <summary>Null (everything) without -Path; else a test of a version's relative path.</summary>
        private Func<string, bool> Matcher(string sourceRoot)
        {
            if (Path == null || Path.Length == 0) return null;
            var tests = new List<Func<string, bool>>();
            foreach (var raw in Path)
            {
                var p = raw ?? "";
                if (sourceRoot != null && p.StartsWith("/", StringComparison.Ordinal))
                {
                    var root = sourceRoot.TrimEnd('/');
                    if (p == root) p = "";
                    else if (p.StartsWith(root + "/", StringComparison.Ordinal)) p = p.Substring(root.Length + 1);
                }
                p = p.Trim('/');
                if (WildcardPattern.ContainsWildcardCharacters(p))
                {
                    var w = new WildcardPattern(p, WildcardOptions.None);
                    tests.Add(rel => w.IsMatch(rel));
                }
                else
                {
                    var literal = RelativePath.Normalize(p);
                    tests.Add(rel => RelativePath.IsSameOrUnder(rel, literal));
                }
            }
            return rel => tests.Any(t => t(rel));
        }
    }
}
