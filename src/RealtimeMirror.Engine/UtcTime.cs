using System;

namespace RealtimeMirror.Engine
{
    /// <summary>
    /// The engine keeps every time in UTC (the *Utc properties); the plain-named property beside each one is the same
    /// moment in local time, which is what PowerShell shows (a DateTime prints without its zone).
    /// </summary>
    public static class UtcTime
    {
        /// <summary>A time as UTC: a local time is converted, one without a kind (read back from a file) is taken as UTC.</summary>
        public static DateTime Of(DateTime t) =>
            t.Kind == DateTimeKind.Utc ? t : t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc);

        public static DateTime? Of(DateTime? t) => t is DateTime v ? Of(v) : (DateTime?)null;

        public static DateTime? Local(DateTime? utc) => utc is DateTime v ? Of(v).ToLocalTime() : (DateTime?)null;
    }
}
