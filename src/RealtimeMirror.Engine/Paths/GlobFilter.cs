using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace RealtimeMirror.Engine.Paths
{
    /// <summary>
    /// Exclude patterns as admins write them for rsync: a pattern without '/' matches the name at any depth
    /// ('*.swp', '*~'); one with '/' matches the relative path ('cache/*', 'logs/**'); '**' crosses
    /// directories, '*' and '?' do not. An excluded directory excludes everything below it.
    /// </summary>
    public sealed class GlobFilter
    {
        public static readonly GlobFilter None = new GlobFilter(Array.Empty<string>());

        private readonly Regex[] _namePatterns;
        private readonly Regex[] _pathPatterns;

        public GlobFilter(IEnumerable<string> patterns)
        {
            Patterns = (patterns ?? Array.Empty<string>()).Where(p => !string.IsNullOrWhiteSpace(p)).ToArray();
            _namePatterns = Patterns.Where(p => p.TrimEnd('/').IndexOf('/') < 0).Select(p => Compile(p.TrimEnd('/'))).ToArray();
            _pathPatterns = Patterns.Where(p => p.TrimEnd('/').IndexOf('/') >= 0).Select(p => Compile(p.Trim('/'))).ToArray();
        }

        public IReadOnlyList<string> Patterns { get; }

        public bool IsEmpty => Patterns.Count == 0;

        /// <summary>True when the path or any of its ancestors is excluded.</summary>
        public bool IsExcluded(string relativePath)
        {
            if (IsEmpty || string.IsNullOrEmpty(relativePath)) return false;
            foreach (var ancestor in RelativePath.Ancestors(relativePath))
                if (MatchesOne(ancestor)) return true;
            return MatchesOne(relativePath);
        }

        private bool MatchesOne(string relativePath)
        {
            var name = RelativePath.Name(relativePath);
            foreach (var r in _namePatterns) if (r.IsMatch(name)) return true;
            foreach (var r in _pathPatterns) if (r.IsMatch(relativePath)) return true;
            return false;
        }

        private static Regex Compile(string glob)
        {
            var sb = new StringBuilder("^");
            for (int i = 0; i < glob.Length; i++)
            {
                char c = glob[i];
                if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
                {
                    sb.Append(".*");
                    i++;
                    if (i + 1 < glob.Length && glob[i + 1] == '/') { sb.Append("/?"); i++; }
                }
                else if (c == '*') sb.Append("[^/]*");
                else if (c == '?') sb.Append("[^/]");
                else if (c == '[')
                {
                    int end = glob.IndexOf(']', i + 1);
                    if (end < 0) { sb.Append("\\["); continue; }
                    var set = glob.Substring(i + 1, end - i - 1);
                    if (set.StartsWith("!")) set = "^" + set.Substring(1);
                    sb.Append('[').Append(set.Replace("\\", "\\\\")).Append(']');
                    i = end;
                }
                else sb.Append(Regex.Escape(c.ToString()));
            }
            sb.Append('$');
            return new Regex(sb.ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline);
        }
    }
}
