using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>What every RealtimeMirror cmdlet shares: the target store, Ctrl+C, and well-formed ErrorRecords.</summary>
    public abstract class MirrorCmdletBase : PSCmdlet
    {
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();

        /// <summary>Cancelled by Ctrl+C (StopProcessing).</summary>
        protected CancellationToken StopToken => _stop.Token;

        protected TargetStore Store { get; } = new TargetStore();

        protected override void StopProcessing() => _stop.Cancel();

        /// <summary>All targets, or null after a TargetStoreUnreadable error (a missing file is an empty list).</summary>
        protected IReadOnlyList<MirrorTarget> LoadTargets()
        {
            try { return Store.Load(); }
            catch (Exception e)
            {
                WriteStoreUnreadable(e);
                return null;
            }
        }

        /// <summary>The one error every command writes when the target file cannot be read or parsed.</summary>
        protected void WriteStoreUnreadable(Exception e) =>
            WriteError(new ErrorRecord(e, ErrorIds.TargetStoreUnreadable, ErrorCategory.ReadError, Store.FilePath));

        /// <summary>
        /// A case-insensitive name matcher: a wildcard pattern, or (no wildcard characters, or a pattern PowerShell cannot
        /// parse such as '[') the literal name. <paramref name="isWildcard"/> tells whether "no match" is a quiet result.
        /// </summary>
        protected static Func<string, bool> NameMatcher(string pattern, out bool isWildcard)
        {
            pattern ??= "";
            Func<string, bool> literal = n => string.Equals(n, pattern, StringComparison.OrdinalIgnoreCase);
            isWildcard = false;
            if (!WildcardPattern.ContainsWildcardCharacters(pattern)) return literal;
            var wildcard = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
            try { wildcard.IsMatch(""); }
            catch (WildcardPatternException) { return literal; }
            isWildcard = true;
            return n => n != null && wildcard.IsMatch(n);
        }

        /// <summary>
        /// The directories a wildcard -Path matches, in byte order (files are not trees). None: writes SourceNotFound
        /// (or InvalidSourcePattern for a pattern PowerShell cannot parse), saying <paramref name="consequence"/>.
        /// </summary>
        protected List<string> DirectoriesMatching(string pattern, string consequence)
        {
            List<string> matches;
            try
            {
                matches = GetResolvedProviderPathFromPSPath(pattern, out _)
                    .Where(p => System.IO.Directory.Exists(p)).Distinct(StringComparer.Ordinal).OrderBy(p => p, StringComparer.Ordinal).ToList();
            }
            catch (ItemNotFoundException) { matches = new List<string>(); }
            catch (WildcardPatternException e)
            {
                WriteError(new ErrorRecord(new ArgumentException($"-Path '{pattern}' is not a valid wildcard pattern ({e.Message}). Use -LiteralPath for a directory whose name contains [ or ].", e),
                    ErrorIds.InvalidSourcePattern, ErrorCategory.InvalidArgument, pattern));
                return new List<string>();
            }
            if (matches.Count == 0)
                WriteError(new ErrorRecord(new System.IO.DirectoryNotFoundException($"No directory matches '{pattern}'. {consequence} (For a name containing [ ] * or ?, use -LiteralPath.)"),
                    ErrorIds.SourceNotFound, ErrorCategory.ObjectNotFound, pattern));
            return matches;
        }

        /// <summary>
        /// True when <paramref name="full"/> is a directory. Otherwise writes SourceNotFound, worded by the command: a
        /// file there (<paramref name="isAFile"/>) or nothing (<paramref name="isMissing"/>), and returns false.
        /// </summary>
        protected bool IsSourceDirectory(string full, object input, string isAFile, string isMissing)
        {
            if (System.IO.Directory.Exists(full)) return true;
            var why = System.IO.File.Exists(full) ? isAFile : isMissing;
            WriteError(new ErrorRecord(new System.IO.DirectoryNotFoundException(why), ErrorIds.SourceNotFound, ErrorCategory.ObjectNotFound, input));
            return false;
        }

        protected void WriteTargetNotFound(string name) =>
            WriteError(new ErrorRecord(
                new ItemNotFoundException($"No mirror target is named '{name}'. Register one with Register-MirrorTarget, or list them with Get-MirrorTarget."),
                ErrorIds.TargetNotFound, ErrorCategory.ObjectNotFound, name));

        protected MirrorTarget ResolveTarget(string name)
        {
            MirrorTarget target;
            try { target = Store.Find(name); }
            catch (Exception e)
            {
                WriteStoreUnreadable(e);
                return null;
            }
            if (target == null)
            {
                WriteTargetNotFound(name);
                return null;
            }
            var cached = SessionCredentials.PasswordFor(target.Name);
            if (cached != null) target.SetPassword(cached);
            return target;
        }

        /// <summary>The target is unreachable, refused, or its root cannot be opened; any connection-lost exception is accepted.</summary>
        protected void WriteTargetUnavailable(Exception e, MirrorTarget target) => WriteError(TargetErrors.Unavailable(e, target?.Name));
    }
}
