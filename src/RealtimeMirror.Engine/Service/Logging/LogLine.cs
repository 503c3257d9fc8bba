using System;
using System.Globalization;
using System.Text;

namespace RealtimeMirror.Engine.Service.Logging
{
    /// <summary>
    /// The file log's one-line form (logfmt): time level target=... action=... path="..." bytes=... msg="...".
    /// A file name may hold newlines, quotes or bytes that are not UTF-8; they are escaped (\n, \", \\, \xHH), so
    /// one record is always exactly one line and grep/awk can split it.
    /// </summary>
    public static class LogLine
    {
        public static string Format(LogRecord r)
        {
            var sb = new StringBuilder(128);
            sb.Append(r.Time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            sb.Append(' ').Append(LevelName(r.Level));
            if (r.Target.Length > 0) sb.Append(" target=").Append(Quote(r.Target));
            if (r.Action.Length > 0) sb.Append(" action=").Append(Quote(r.Action));
            if (r.Path.Length > 0) sb.Append(" path=").Append(Quote(r.Path));
            if (r.OldPath != null) sb.Append(" from=").Append(Quote(r.OldPath));
            if (r.Bytes.HasValue) sb.Append(" bytes=").Append(r.Bytes.Value.ToString(CultureInfo.InvariantCulture));
            if (r.Message.Length > 0) sb.Append(" msg=").Append(Quote(r.Message));
            return sb.ToString();
        }

        public static string LevelName(MirrorLogLevel level) => level switch
        {
            MirrorLogLevel.Error => "ERROR",
            MirrorLogLevel.Warning => "WARN",
            MirrorLogLevel.Debug => "DEBUG",
            _ => "INFO",
        };

        /// <summary>Bare when it is a plain token, else in double quotes with escapes.</summary>
        public static string Quote(string s)
        {
            bool plain = s.Length > 0;
            foreach (var c in s)
                if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c >= 0x7f) { plain = false; break; }
            if (plain) return s;
            var sb = new StringBuilder(s.Length + 8).Append('"');
            foreach (var c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        // Lone surrogates U+DC80..U+DCFF are the undecodable bytes of a name: show the byte.
                        if (c >= 0xDC80 && c <= 0xDCFF) sb.Append("\\x").Append(((int)c - 0xDC00).ToString("x2", CultureInfo.InvariantCulture));
                        else if (c < ' ' || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }
    }
}
