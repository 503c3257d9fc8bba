using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace RealtimeMirror.Engine.Targets
{
    /// <summary>
    /// OpenSSH known_hosts: plain ("host,ip keytype base64") and hashed ("|1|salt|hmac keytype base64") host
    /// fields, "[host]:port" for ports other than 22. We verify against the same file ssh uses, so keys an admin
    /// already trusts are trusted here, and keys we record are trusted by ssh too.
    /// </summary>
    public sealed class KnownHosts
    {
        public KnownHosts(string filePath)
        {
            FilePath = string.IsNullOrEmpty(filePath)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ssh", "known_hosts")
                : filePath;
        }

        public string FilePath { get; }

        /// <summary>
        /// Trusted: this key is listed for the host. Unknown: no key at all is listed for the host. Mismatch: the host
        /// has keys listed (of any type) but not this one. Revoked: an @revoked line lists this key. Only Trusted is accepted.
        /// </summary>
        public enum Verdict { Trusted, Unknown, Mismatch, Revoked }

        public static string HostField(string host, int port) => port == 22 ? host : $"[{host}]:{port}";

        public Verdict Check(string host, int port, string keyType, byte[] key)
        {
            var wanted = HostField(host, port);
            var keyText = Convert.ToBase64String(key);
            var entries = Entries().ToList();
            // A revoked key is refused whatever else the file says about the host (as ssh does).
            if (entries.Any(e => e.Marker == "@revoked" && e.Key == keyText && HostMatches(e.Hosts, wanted))) return Verdict.Revoked;
            bool sawHost = false;
            foreach (var entry in entries)
            {
                if (entry.Marker != null) continue; // @cert-authority: host certificates are not supported, never trusted
                if (!HostMatches(entry.Hosts, wanted)) continue;
                if (entry.KeyType == keyType && entry.Key == keyText) return Verdict.Trusted;
                // Any other key listed for this host, of this type or another: the host is known, and this is not its key.
                sawHost = true;
            }
            return sawHost ? Verdict.Mismatch : Verdict.Unknown;
        }

        /// <summary>Records a key accepted on first use.</summary>
        public void Add(string host, int port, string keyType, byte[] key)
        {
            var dir = Path.GetDirectoryName(FilePath);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            var line = $"{HostField(host, port)} {keyType} {Convert.ToBase64String(key)}\n";
            var existing = File.Exists(FilePath) ? File.ReadAllText(FilePath) : "";
            if (existing.Length > 0 && !existing.EndsWith("\n")) line = "\n" + line;
            File.AppendAllText(FilePath, line);
        }

        private struct Entry { public string Marker, Hosts, KeyType, Key; }

        private IEnumerable<Entry> Entries()
        {
            if (!File.Exists(FilePath)) yield break;
            foreach (var raw in File.ReadAllLines(FilePath))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith("#")) continue;
                var parts = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                string marker = null;
                if (parts[0].StartsWith("@"))
                {
                    marker = parts[0].ToLowerInvariant();
                    parts = parts.Skip(1).ToArray();
                }
                if (parts.Length < 3) continue;
                yield return new Entry { Marker = marker, Hosts = parts[0], KeyType = parts[1], Key = parts[2] };
            }
        }

        /// <summary>
        /// ssh's host list: comma-separated names or patterns ('*' and '?'), hashed names, and '!pattern' negations
        /// (a negated match rules the line out whatever else matches).
        /// </summary>
        private static bool HostMatches(string hostsField, string wanted)
        {
            bool matched = false;
            foreach (var pattern in hostsField.Split(','))
            {
                if (pattern.StartsWith("!"))
                {
                    if (GlobMatches(pattern.Substring(1), wanted)) return false;
                    continue;
                }
                if (!matched && SingleMatches(pattern, wanted)) matched = true;
            }
            return matched;
        }

        private static bool SingleMatches(string pattern, string wanted)
        {
            if (!pattern.StartsWith("|1|")) return GlobMatches(pattern, wanted);
            var bits = pattern.Split('|');
            if (bits.Length < 4) return false;
            try
            {
                using (var hmac = new HMACSHA1(Convert.FromBase64String(bits[2])))
                    return Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(wanted))) == bits[3];
            }
            catch (FormatException) { return false; } // a damaged hashed entry matches nothing
        }

        private static bool GlobMatches(string pattern, string wanted)
        {
            if (pattern.IndexOfAny(new[] { '*', '?' }) < 0) return string.Equals(pattern, wanted, StringComparison.OrdinalIgnoreCase);
            var regex = "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$";
            return System.Text.RegularExpressions.Regex.IsMatch(wanted, regex, System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);
        }
    }
}
