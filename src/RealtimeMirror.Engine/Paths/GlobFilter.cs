using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace RealtimeMirror.Engine.Paths
{
    /// <summary>
    /// Exclude patterns as admins write them for rsync's --exclude: a pattern without '/' matches the name at any depth
    /// ('*.swp', '*~'); a leading '/' anchors it at the root ('/build' is only the top-level build); a pattern with a
    /// '/' inside matches the whole relative path from the root ('cache/*', 'logs/**': unlike rsync, which would also
    /// match it below any directory); '**' crosses directories, '*' and '?' do not, [set] is a character class; a
    /// trailing '/' matches directories only ('cache/'). An excluded directory excludes everything below it. The
    /// planner applies it the same way for every transport, so local, SFTP and rsync replicas mirror the same entries.
    /// </summary>
    public sealed class GlobFilter
    {
        public static readonly GlobFilter None = new GlobFilter(Array.Empty<string>());

        private readonly Regex[] _namePatterns;
        private readonly Regex[] _pathPatterns;
        // Same split for the patterns written with a trailing '/', which only match directories.
        private readonly Regex[] _dirNamePatterns;
        private readonly Regex[] _dirPathPatterns;

        public GlobFilter(IEnumerable<string> patterns)
        {
            Patterns = (patterns ?? Array.Empty<string>()).Where(p => !string.IsNullOrWhiteSpace(p)).ToArray();
            var any = Patterns.Where(p => !p.EndsWith("/")).ToList();
            var dirs = Patterns.Where(p => p.EndsWith("/") && p.Trim('/').Length > 0).ToList();
            _namePatterns = any.Where(p => p.IndexOf('/') < 0).Select(p => Compile(p)).ToArray();
            _pathPatterns = any.Where(p => p.IndexOf('/') >= 0).Select(p => Compile(p.Trim('/'))).ToArray();
            _dirNamePatterns = dirs.Where(p => p.TrimEnd('/').IndexOf('/') < 0).Select(p => Compile(p.TrimEnd('/'))).ToArray();
            _dirPathPatterns = dirs.Where(p => p.TrimEnd('/').IndexOf('/') >= 0).Select(p => Compile(p.Trim('/'))).ToArray();
        }

        public IReadOnlyList<string> Patterns { get; }

        public bool IsEmpty => Patterns.Count == 0;

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
            var name = RelativePath.Name(relativePath);
            foreach (var r in _namePatterns) if (r.IsMatch(name)) return true;
            foreach (var r in _pathPatterns) if (r.IsMatch(relativePath)) return true;
            if (!mayBeDirectory) return false;
            foreach (var r in _dirNamePatterns) if (r.IsMatch(name)) return true;
            foreach (var r in _dirPathPatterns) if (r.IsMatch(relativePath)) return true;
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
