using System.IO;
using System.Threading;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>Compares two streams block by block, stopping at the first difference.</summary>
    internal static class ContentCompare
    {
        public static bool StreamsEqual(Stream a, Stream b, CancellationToken cancel)
        {
            var ba = new byte[81920];
            var bb = new byte[81920];
            while (true)
            {
                cancel.ThrowIfCancellationRequested();
                int na = ReadFull(a, ba);
                int nb = ReadFull(b, bb);
                if (na != nb) return false;
                if (na == 0) return true;
                for (int i = 0; i < na; i++) if (ba[i] != bb[i]) return false;
            }
        }

        private static int ReadFull(Stream s, byte[] buf)
        {
            int total = 0;
            while (total < buf.Length)
            {
                int n = s.Read(buf, total, buf.Length - total);
                if (n == 0) break;
                total += n;
            }
            return total;
        }

        /// <summary>A name beside the final one, hidden, unique per attempt, so a half-sent file never takes the real name.</summary>
        public static string TempNameFor(string finalName) =>
            "." + (finalName.Length > 180 ? finalName.Substring(0, 180) : finalName) + ".rtm-" + System.Guid.NewGuid().ToString("N").Substring(0, 12);
    }
}
