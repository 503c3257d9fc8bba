using System;
using System.IO;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Platform
{
    /// <summary>
    /// Whether two local directories overlap: one is the other or lies inside it. A replica inside its source would
    /// mirror itself forever; one that contains its source would delete the source. On Linux the answer comes from
    /// the file system, not from the spelling of the paths: each physical ancestor of the inner path (reached by
    /// "..", which the kernel resolves from where a directory really is) is compared by device and inode, so links in
    /// any component, bind mounts, "..", doubled slashes and case tricks cannot hide an overlap.
    /// </summary>
    public static class TreeOverlap
    {
        public static bool Overlaps(string a, string b) => IsSameOrInside(a, b) || IsSameOrInside(b, a);

        /// <summary>True when <paramref name="inner"/> (or, if it does not exist yet, its deepest existing ancestor) is <paramref name="outer"/> or below it.</summary>
        public static bool IsSameOrInside(string inner, string outer)
        {
            if (!OperatingSystem.IsLinux()) return IsSameOrInsideBySpelling(inner, outer);
            if (StatX.Get(Flags.AT_FDCWD, PathEncoding.ToCString(Path.GetFullPath(outer)), 0, out var o) != 0) return false; // absent: contains nothing
            var p = DeepestExisting(Path.GetFullPath(inner));
            if (p == null) return false;
            if (StatX.Get(Flags.AT_FDCWD, PathEncoding.ToCString("/"), 0, out var root) != 0) return false;
            for (int depth = 0; depth < 4096; depth++)
            {
                if (StatX.Get(Flags.AT_FDCWD, PathEncoding.ToCString(p), 0, out var st) != 0) return false;
                if (st.Device == o.Device && st.Inode == o.Inode) return true;
                if (st.Device == root.Device && st.Inode == root.Inode) return false;
                p += "/..";
            }
            return false;
        }

        private static string DeepestExisting(string full)
        {
            var p = full.TrimEnd('/');
            while (p.Length > 0 && !Directory.Exists(p)) p = p.Substring(0, Math.Max(0, p.LastIndexOf('/')));
            return p.Length == 0 ? "/" : p;
        }

        /// <summary>Off Linux: full paths compared by spelling, with a final symlink resolved.</summary>
        private static bool IsSameOrInsideBySpelling(string inner, string outer) =>
            RelativePath.IsSameOrUnder(Spelled(inner), Spelled(outer));

        private static string Spelled(string path)
        {
            var full = Path.GetFullPath(path).TrimEnd('/', '\\');
            try
            {
                var resolved = new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
                return resolved.Replace('\\', '/').TrimEnd('/').TrimStart('/');
            }
            catch (Exception) { return full.Replace('\\', '/').TrimStart('/'); }
        }
    }
}
