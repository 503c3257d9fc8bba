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

        public enum Verdict { Trusted, Unknown, Mismatch }

        public static string HostField(string host, int port) => port == 22 ? host : $"[{host}]:{port}";

        public Verdict Check(string host, int port, string keyType, byte[] key)
        {
            var wanted = HostField(host, port);
            var keyText = Convert.ToBase64String(key);
            bool sawHostWithType = false;
            foreach (var entry in Entries())
            {
                if (!HostMatches(entry.Hosts, wanted)) continue;
                if (entry.KeyType != keyType) continue;
                if (entry.Key == keyText) return Verdict.Trusted;
                sawHostWithType = true;
            }
            return sawHostWithType ? Verdict.Mismatch : Verdict.Unknown;
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

        private struct Entry { public string Hosts, KeyType, Key; }

        private IEnumerable<Entry> Entries()
        {
            if (!File.Exists(FilePath)) yield break;
            foreach (var raw in File.ReadAllLines(FilePath))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith("#")) continue;
                var parts = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 3) continue;
                if (parts[0].StartsWith("@")) continue; // @revoked / @cert-authority markers: not handled, never trusted
                yield return new Entry { Hosts = parts[0], KeyType = parts[1], Key = parts[2] };
            }
        }

        private static bool HostMatches(string hostsField, string wanted)
        {
            foreach (var pattern in hostsField.Split(','))
            {
                if (pattern.StartsWith("|1|"))
                {
                    var bits = pattern.Split('|');
                    if (bits.Length < 4) continue;
                    using (var hmac = new HMACSHA1(Convert.FromBase64String(bits[2])))
                    {
                        var hash = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(wanted)));
                        if (hash == bits[3]) return true;
                    }
                }
                else if (string.Equals(pattern, wanted, StringComparison.OrdinalIgnoreCase)) return true;
            }
            return false;
        }
    }
}
