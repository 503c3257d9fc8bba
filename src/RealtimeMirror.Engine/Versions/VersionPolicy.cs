using System;
using System.Globalization;
using System.Text.RegularExpressions;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Engine.Versions
{
    /// <summary>
    /// What a target keeps of the files the mirror deletes or overwrites: nothing, or every one moved into the versions
    /// area, pruned to a retention (age) and/or a count per file. Without either limit the retention is 30 days.
    /// </summary>
    public sealed class VersionPolicy
    {
        public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(30);

        public VersionPolicy(TimeSpan? retention, int? count)
        {
            if (retention is TimeSpan r && r <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(retention), "A retention must be positive.");
            if (count is int c && c < 1) throw new ArgumentOutOfRangeException(nameof(count), "A version count must be at least 1.");
            Retention = retention ?? (count == null ? DefaultRetention : (TimeSpan?)null);
            Count = count;
        }

        /// <summary>Versions older than this are pruned; null: no age limit.</summary>
        public TimeSpan? Retention { get; }
        /// <summary>At most this many versions of one path are kept (the newest); null: no count limit.</summary>
        public int? Count { get; }

        /// <summary>The target's saved policy, or null when it keeps no versions.</summary>
        public static VersionPolicy For(MirrorTarget target)
        {
            if (target == null || !target.KeepVersions) return null;
            return new VersionPolicy(string.IsNullOrWhiteSpace(target.VersionRetention) ? (TimeSpan?)null : ParseRetention(target.VersionRetention), target.VersionCount);
        }

        private static readonly Regex Short = new Regex(@"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        /// <summary>"30d", "12h", "90m", "45s", "2w" or a TimeSpan ("1.12:00:00"). Throws ArgumentException otherwise.</summary>
        public static TimeSpan ParseRetention(string text)
        {
            var t = (text ?? "").Trim();
            var m = Short.Match(t);
            TimeSpan span;
            if (m.Success)
            {
                var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                span = char.ToLowerInvariant(m.Groups[2].Value[0]) switch
                {
                    's' => TimeSpan.FromSeconds(n),
                    'm' => TimeSpan.FromMinutes(n),
                    'h' => TimeSpan.FromHours(n),
                    'd' => TimeSpan.FromDays(n),
                    _ => TimeSpan.FromDays(7 * n),
                };
            }
            else if (!TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out span))
                throw new ArgumentException($"'{text}' is not a retention: give an age like '30d', '12h', '90m', '45s' or a TimeSpan like '1.12:00:00'.");
            if (span <= TimeSpan.Zero) throw new ArgumentException($"'{text}': a retention must be positive.");
            return span;
        }

        public static bool IsValidRetention(string text)
        {
            try { ParseRetention(text); return true; } catch (ArgumentException) { return false; }
        }
    }
}
