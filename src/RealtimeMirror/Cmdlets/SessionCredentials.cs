using System;
using System.Collections.Concurrent;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Passwords given with -Credential, kept in this process only: never written to the target file.
    /// Scheduled scripts should use key files.
    /// </summary>
    internal static class SessionCredentials
    {
        private static readonly ConcurrentDictionary<string, string> Passwords = new ConcurrentDictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        public static void Remember(string target, string password) { if (password != null) Passwords[target] = password; }
        public static string PasswordFor(string target) => Passwords.TryGetValue(target, out var p) ? p : null;
        public static void Forget(string target) => Passwords.TryRemove(target, out _);
    }
}
