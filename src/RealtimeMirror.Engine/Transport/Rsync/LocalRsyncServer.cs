using System.Diagnostics;
using System.Linq;
using System.Text;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>Runs `rsync --server` as a local child process over pipes: for tests, and local targets with rsync installed.</summary>
    public static class LocalRsyncServer
    {
        /// <param name="environment">Extra variables for the server (tests: RSYNC_CHECKSUM_LIST limits what it offers).</param>
        public static Process Start(RsyncPushOptions options, string destDir, string rsyncPath = "rsync",
            System.Collections.Generic.IReadOnlyDictionary<string, string> environment = null)
        {
            var args = RsyncServerCommand.ServerArgs(options, destDir).Skip(1);
            var psi = new ProcessStartInfo(rsyncPath, string.Join(" ", args.Select(QuoteForArgv)))
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            if (environment != null) foreach (var kv in environment) psi.Environment[kv.Key] = kv.Value;
            return Process.Start(psi);
        }

        /// <summary>Quotes one argument for .NET's argv splitting (the Windows rules, which .NET applies on Unix too); no shell is involved.</summary>
        internal static string QuoteForArgv(string arg)
        {
            if (arg.Length > 0 && arg.IndexOfAny(new[] { ' ', '\t', '\n', '"', '\\', '\'' }) < 0) return arg;
            var sb = new StringBuilder("\"");
            int backslashes = 0;
            foreach (var c in arg)
            {
                if (c == '\\') { backslashes++; continue; }
                if (c == '"') sb.Append('\\', backslashes * 2 + 1).Append('"');
                else sb.Append('\\', backslashes).Append(c);
                backslashes = 0;
            }
            sb.Append('\\', backslashes * 2).Append('"');
            return sb.ToString();
        }
    }
}
