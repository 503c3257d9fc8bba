using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>Tab completion of registered target names (from the target file; nothing when it cannot be read).</summary>
    public sealed class TargetNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            IReadOnlyList<MirrorTarget> all;
            try { all = new TargetStore().Load(); }
            catch (Exception) { return Array.Empty<CompletionResult>(); }
            var prefix = Completion.Unquote(wordToComplete);
            var pattern = new WildcardPattern(WildcardPattern.Escape(prefix) + "*", WildcardOptions.IgnoreCase);
            return all.Where(t => t.Name != null && pattern.IsMatch(t.Name))
                .OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase)
                .Select(t => new CompletionResult(Completion.Quote(t.Name), t.Name, CompletionResultType.ParameterValue, $"{t.Name}: {t.Location}"))
                .ToList();
        }
    }

    /// <summary>Tab completion of the Ids of this session's watches.</summary>
    public sealed class WatchIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var prefix = Completion.Unquote(wordToComplete);
            return WatchRegistry.All
                .Where(w => w.Id.ToString().StartsWith(prefix, StringComparison.Ordinal))
                .Select(w => new CompletionResult(w.Id.ToString(), w.Id.ToString(), CompletionResultType.ParameterValue, $"watch {w.Id}"))
                .ToList();
        }
    }

    internal static class Completion
    {
        public static string Unquote(string word)
        {
            if (string.IsNullOrEmpty(word)) return "";
            return word.Trim('\'', '"');
        }

        /// <summary>Names with spaces or PowerShell's special characters come back single-quoted.</summary>
        public static string Quote(string name) =>
            name.IndexOfAny(" \t'\"$`;,(){}[]@#&|<>*?".ToCharArray()) >= 0 ? "'" + name.Replace("'", "''") + "'" : name;
    }
}
