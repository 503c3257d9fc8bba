using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace RealtimeMirror.Engine.Paths
{
    /// <summary>
    /// Relative paths are always '/'-separated inside the engine, whatever the OS, so that a Windows
    /// source and a Linux replica agree on names. Conversions happen only at the file-system edge.
    /// </summary>
    public static class RelativePath
    {
        public static string Normalize(string relative) => Normalize(relative, windows: Path.DirectorySeparatorChar == '\\');

        /// <summary>The rules of one platform, so Windows' rules are tested on Linux too.</summary>
        internal static string Normalize(string relative, bool windows)
        {
            if (string.IsNullOrEmpty(relative)) return "";
            var s = windows ? relative.Replace('\\', '/') : relative; // a backslash is a legal name character on Unix
            var parts = new List<string>();
            foreach (var part in s.Split('/'))
            {
                if (part.Length == 0 || part == ".") continue;
                if (part == "..") throw new ArgumentException($"Relative path '{relative}' climbs out of its root.");
                // On Windows "C:x" is relative to another drive's current directory and "f:stream" names an alternate
                // data stream: either would leave the replica root or hide data in it.
                if (windows && part.IndexOf(':') >= 0)
                    throw new ArgumentException($"Relative path '{relative}' holds ':' (a drive or an alternate data stream); refused on Windows.");
                parts.Add(part);
            }
            return string.Join("/", parts);
        }

        /// <summary>The path of <paramref name="fullPath"/> below <paramref name="root"/>, or null when it is not below it.</summary>
        public static string FromFull(string root, string fullPath)
        {
            var r = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
            var f = Path.GetFullPath(fullPath);
            var cmp = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            if (string.Equals(r, f.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar), cmp)) return "";
            if (!f.StartsWith(r + Path.DirectorySeparatorChar, cmp)) return null;
            var rel = f.Substring(r.Length + 1);
            return Path.DirectorySeparatorChar == '\\' ? rel.Replace('\\', '/') : rel;
        }

        public static string ToFull(string root, string relative)
        {
            if (string.IsNullOrEmpty(relative)) return Path.GetFullPath(root);
            var native = Path.DirectorySeparatorChar == '/' ? relative : relative.Replace('/', Path.DirectorySeparatorChar);
            return Path.Combine(Path.GetFullPath(root), native);
        }

        public static string Combine(string a, string b)
        {
            if (string.IsNullOrEmpty(a)) return b ?? "";
            if (string.IsNullOrEmpty(b)) return a;
            return a.TrimEnd('/') + "/" + b.TrimStart('/');
        }

        public static string Parent(string relative)
        {
            if (string.IsNullOrEmpty(relative)) return null;
            int i = relative.LastIndexOf('/');
            return i < 0 ? "" : relative.Substring(0, i);
        }

        public static string Name(string relative)
        {
            int i = relative.LastIndexOf('/');
            return i < 0 ? relative : relative.Substring(i + 1);
        }

        /// <summary>True when <paramref name="path"/> is <paramref name="ancestor"/> or lies below it.</summary>
        public static bool IsSameOrUnder(string path, string ancestor)
        {
            if (string.IsNullOrEmpty(ancestor)) return true;
            return path == ancestor || path.StartsWith(ancestor + "/", StringComparison.Ordinal);
        }

        /// <summary>True when <paramref name="path"/> lies below <paramref name="ancestor"/> (not the same path).</summary>
        public static bool IsUnder(string path, string ancestor) => path != ancestor && IsSameOrUnder(path, ancestor);

        /// <summary>
        /// The name <paramref name="path"/> (at or below <paramref name="from"/>) has once <paramref name="from"/> was
        /// renamed to <paramref name="to"/>.
        /// </summary>
        public static string Moved(string path, string from, string to) => to + path.Substring(from.Length);

        /// <summary>All ancestors from the top down, excluding the root "" and the path itself.</summary>
        public static IEnumerable<string> Ancestors(string relative)
        {
            int i = -1;
            while ((i = relative.IndexOf('/', i + 1)) >= 0) yield return relative.Substring(0, i);
        }

        /// <summary>
        /// Orders paths by their raw UTF-8 bytes: the order rsync's receiver sorts its file list in, and one
        /// where a directory comes right before everything inside it.
        /// </summary>
        public static readonly IComparer<string> Utf8Order = new Utf8Comparer();

        private sealed class Utf8Comparer : IComparer<string>
        {
            public int Compare(string x, string y)
            {
                if (ReferenceEquals(x, y)) return 0;
                if (x == null) return -1;
                if (y == null) return 1;
                // Ordinal UTF-16 order equals UTF-8 byte order except around surrogates; compare bytes to be exact.
                var bx = PathEncoding.Instance.GetBytes(x);
                var by = PathEncoding.Instance.GetBytes(y);
                int n = Math.Min(bx.Length, by.Length);
                for (int i = 0; i < n; i++)
                    if (bx[i] != by[i]) return bx[i].CompareTo(by[i]);
                return bx.Length.CompareTo(by.Length);
            }
        }
    }
}
