using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Targets
{
    /// <summary>
    /// A target's saved settings merged with the command line's, in one place, so the service and one-shot syncs
    /// read them the same way: excludes add up (the command line's and the target's), everything else is overridden
    /// by the command line when given there.
    /// </summary>
    public static class TargetSettings
    {
        /// <summary>The command line's patterns plus the target's -Exclude and -ExcludeFile patterns.</summary>
        public static GlobFilter ExcludeFor(MirrorTarget target, IEnumerable<string> commandLine)
        {
            var patterns = new List<string>(commandLine ?? Array.Empty<string>());
            if (target.Exclude != null) patterns.AddRange(target.Exclude);
            if (!string.IsNullOrEmpty(target.ExcludeFile)) patterns.AddRange(ReadExcludeFile(target.Name, target.ExcludeFile));
            patterns.Add(Versions.VersionArea.ExcludePattern); // the versions area is reserved on every target
            return new GlobFilter(patterns);
        }

        /// <summary>
        /// One pattern a line, as in rsync's --exclude-from: empty lines and lines starting with '#' or ';' are
        /// skipped; a trailing CR (a file edited on Windows) is dropped. A missing file is an error naming the target:
        /// silently mirroring what the admin meant to exclude would be worse than not starting.
        /// </summary>
        public static IReadOnlyList<string> ReadExcludeFile(string targetName, string path)
        {
            string[] lines;
            try { lines = File.ReadAllLines(path); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ExcludeFileUnreadableException($"Target '{targetName}': cannot read its exclude file '{path}': {e.Message}", e);
            }
            return lines.Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0 && l[0] != '#' && l[0] != ';').ToList();
        }

        /// <summary>Whether a whole-tree compare at start (the service's initial sync, a one-shot tree sync) deletes.</summary>
        public static bool DeletesAtStartup(DeleteMode mode) => mode == DeleteMode.Always || mode == DeleteMode.Startup;

        /// <summary>Whether changes seen while running (events, Rescans, retries) delete.</summary>
        public static bool DeletesWhileRunning(DeleteMode mode) => mode == DeleteMode.Always || mode == DeleteMode.Running;
    }

    /// <summary>A target's exclude file cannot be read: that target does not start (an IOException, as before).</summary>
    public sealed class ExcludeFileUnreadableException : IOException
    {
        public ExcludeFileUnreadableException(string message, Exception inner) : base(message, inner) { }
    }
}
