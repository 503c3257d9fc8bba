using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace RealtimeMirror.Engine.Paths
{
    /// <summary>
    /// Exclude patterns with rsync's --exclude meaning (its exclude.c rule_matches is the reference, and
    /// tests/Excludes.Tests.ps1 compares every transport with the real rsync): a pattern without '/' and without '**'
    /// matches a name at any depth ('*.swp'); a leading '/' anchors it at the root ('/build'); any other pattern with a
    /// '/' or a '**' matches the end of the path at a name boundary, at any depth ('logs/*.log' matches 'logs/a.log' and
    /// 'x/logs/a.log'). '*' and '?' stay within one name, '**' crosses directories ('a/**/b' needs at least one
    /// directory between), [set] and [!set] are character classes; a trailing '/' matches directories only
    /// ('cache/'), a trailing '/***' the directory and everything in it. An excluded directory excludes everything
    /// below it. The planner applies it the same way for every transport, so local, SFTP and rsync replicas mirror
    /// the same entries.
    /// </summary>
    public sealed class GlobFilter
    {
        public static readonly GlobFilter None = new GlobFilter(Array.Empty<string>());

        private readonly Rule[] _rules;

        public GlobFilter(IEnumerable<string> patterns)
        {
            Patterns = (patterns ?? Array.Empty<string>()).Where(p => !string.IsNullOrWhiteSpace(p)).ToArray();
            _rules = Patterns.Select(Rule.Parse).Where(r => r != null).ToArray();
            HasPathPatterns = _rules.Any(r => !r.NameOnly);
        }

        public IReadOnlyList<string> Patterns { get; }

        public bool IsEmpty => Patterns.Count == 0;

        /// <summary>Some pattern looks at more than the name (a '/' or '**' in it): moving a directory can change
        /// what is excluded below it.</summary>
        public bool HasPathPatterns { get; }

        /// <summary>
        /// Whether an entry strictly below <paramref name="directory"/> can be excluded while the directory is not:
        /// false only when every pattern is one name anchored at the root (the reserved '/.rtm-versions' alone), so a
        /// caller can skip looking inside.
        /// </summary>
        public bool MayExcludeBelow(string directory) =>
            _rules.Any(r => !r.Anchored || r.Depth > (directory.Length == 0 ? 0 : directory.Count(c => c == '/') + 1));

        /// <summary>
        /// True when the path or any of its ancestors is excluded. <paramref name="isDirectory"/>: what the entry is,
        /// for the directory-only patterns; null (unknown, e.g. a deleted path's event) lets them match, and the
        /// planner, which knows the kind, decides for good.
        /// </summary>
        public bool IsExcluded(string relativePath, bool? isDirectory = null)
        {
            if (IsEmpty || string.IsNullOrEmpty(relativePath)) return false;
            foreach (var ancestor in RelativePath.Ancestors(relativePath))
                if (MatchesOne(ancestor, true)) return true;
            return MatchesOne(relativePath, isDirectory != false);
        }

        private bool MatchesOne(string relativePath, bool mayBeDirectory)
        {
            string name = null;
            foreach (var r in _rules)
            {
                if (r.DirectoryOnly && !mayBeDirectory) continue;
                if (r.Regex.IsMatch(r.NameOnly ? name ??= RelativePath.Name(relativePath) : relativePath)) return true;
            }
            return false;
        }

        /// <summary>One pattern, parsed the way rsync parses an --exclude.</summary>
        private sealed class Rule
        {
            public Regex Regex;
            public bool NameOnly;      // no '/' and no '**': matched against the last name only
            public bool Anchored;      // leading '/': matched from the root
            public bool DirectoryOnly; // trailing '/'
            public int Depth;          // names in the pattern

            public static Rule Parse(string pattern)
            {
                var p = pattern;
                bool dirOnly = false, withContents = false;
                if (p.EndsWith("/***", StringComparison.Ordinal)) { p = p.Substring(0, p.Length - 4); withContents = true; dirOnly = true; }
                else if (p.EndsWith("/", StringComparison.Ordinal)) { p = p.TrimEnd('/'); dirOnly = true; }
                bool anchored = p.StartsWith("/", StringComparison.Ordinal);
                if (anchored) p = p.TrimStart('/');
                if (p.Length == 0) return null;
                bool nameOnly = !anchored && p.IndexOf('/') < 0 && p.IndexOf("**", StringComparison.Ordinal) < 0;
                // Unanchored path patterns match the end of the path at a name boundary: rsync tries each name as the start.
                var regex = (anchored || nameOnly ? "^" : "(?:^|/)") + Translate(p, wild: p.IndexOfAny(new[] { '*', '?', '[' }) >= 0) + "$";
                return new Rule
                {
                    // "dir/***" is "dir/" (the ancestor rule takes what is inside along).
                    Regex = new Regex(regex, RegexOptions.CultureInvariant | RegexOptions.Singleline),
                    NameOnly = nameOnly,
                    Anchored = anchored,
                    DirectoryOnly = dirOnly || withContents,
                    Depth = p.Contains("**") ? int.MaxValue : p.Split('/').Length,
                };
            }

            /// <param name="wild">The pattern has wildcards: then, as in rsync, a backslash makes the next character literal
            /// (without any, rsync compares the text as it is, backslashes included).</param>
            private static string Translate(string glob, bool wild)
            {
                var sb = new StringBuilder();
                for (int i = 0; i < glob.Length; i++)
                {
                    char c = glob[i];
                    if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
                    {
                        sb.Append(".*"); // any characters, '/' included: "a/**/b" needs a directory between, as in rsync
                        while (i + 1 < glob.Length && glob[i + 1] == '*') i++;
                    }
                    else if (c == '*') sb.Append("[^/]*");
                    else if (c == '?') sb.Append("[^/]");
                    else if (c == '[')
                    {
                        // "[]...]" and "[!]...]": a ']' right after the opening is a member, as in rsync's wildmatch.
                        int start = i + 1 < glob.Length && (glob[i + 1] == '!' || glob[i + 1] == '^') ? i + 2 : i + 1;
                        int end = glob.IndexOf(']', start < glob.Length && glob[start] == ']' ? start + 1 : start);
                        if (end < 0) { sb.Append("\\["); continue; }
                        var set = glob.Substring(i + 1, end - i - 1);
                        bool negated = set.StartsWith("!") || set.StartsWith("^");
                        if (negated) set = set.Substring(1);
                        sb.Append(negated ? "[^/" : "[").Append(set.Replace("\\", "\\\\").Replace("[", "\\[").Replace("]", "\\]")).Append(']');
                        i = end;
                    }
                    else if (wild && c == '\\' && i + 1 < glob.Length) sb.Append(Regex.Escape(glob[++i].ToString())); // rsync: an escaped wildcard is literal
                    else sb.Append(Regex.Escape(c.ToString()));
                }
                return sb.ToString();
            }
        }
    }
}
