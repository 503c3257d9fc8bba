using System;
using System.Globalization;
using System.Linq;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Versions
{
    /// <summary>
    /// The versions area of a replica: <c>.rtm-versions/&lt;UTC stamp&gt;/&lt;relative path&gt;</c> at the replica root.
    /// It is reserved on every target, whether it keeps versions or not: never mirrored from a source, never deleted
    /// or compared by the planner (a reserved exclude), so turning versions off later loses none.
    /// </summary>
    public static class VersionArea
    {
        public const string DirectoryName = ".rtm-versions";
        /// <summary>The anchored exclude that reserves it (GlobFilter syntax).</summary>
        public const string ExcludePattern = "/" + DirectoryName;

        // ISO 8601 basic format with milliseconds: sorts as text, no ':' (SMB, Windows), one stamp per applied plan.
        private const string StampFormat = "yyyyMMdd'T'HHmmss.fff'Z'";
        private static readonly object Gate = new object();
        private static DateTime _last;

        /// <summary>A new stamp for a plan about to run: now in UTC, strictly after every stamp this process gave before.</summary>
        public static string NewStamp(DateTime? now = null)
        {
            var t = TruncateToMs((now ?? DateTime.UtcNow).ToUniversalTime());
            lock (Gate)
            {
                if (t <= _last) t = _last.AddMilliseconds(1);
                _last = t;
            }
            return Stamp(t);
        }

        public static string Stamp(DateTime utc) => TruncateToMs(utc.ToUniversalTime()).ToString(StampFormat, CultureInfo.InvariantCulture);

        public static bool TryParseStamp(string name, out DateTime utc) =>
            DateTime.TryParseExact(name, StampFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out utc);

        /// <summary>Where <paramref name="relativePath"/> goes when moved aside under <paramref name="stamp"/>.</summary>
        public static string PathFor(string stamp, string relativePath) =>
            RelativePath.Combine(StampDirectory(stamp), RelativePath.Normalize(relativePath));

        public static string StampDirectory(string stamp) => DirectoryName + "/" + stamp;

        /// <summary>The reserved exclude added to <paramref name="exclude"/> (the same filter when it has it already).</summary>
        public static GlobFilter Reserve(GlobFilter exclude)
        {
            exclude ??= GlobFilter.None;
            if (exclude.Patterns.Contains(ExcludePattern, StringComparer.Ordinal)) return exclude;
            return new GlobFilter(exclude.Patterns.Concat(new[] { ExcludePattern }));
        }

        /// <summary>True for the versions area itself and anything in it.</summary>
        public static bool IsReserved(string relativePath)
        {
            var p = RelativePath.Normalize(relativePath ?? "");
            return p == DirectoryName || p.StartsWith(DirectoryName + "/", StringComparison.Ordinal);
        }

        private static DateTime TruncateToMs(DateTime t) => new DateTime(t.Ticks - t.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
    }
}
