using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using RealtimeMirror.Engine.Paths;
using Renci.SshNet.Common;
using Renci.SshNet.Sftp;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// Confinement for a replica reached over SFTP. The server resolves every path it is given, following symlinks
    /// in any component, and SFTP v3 has no openat/O_NOFOLLOW. So before each step that writes, we lstat the root
    /// and every ancestor of the target, in that same step, and refuse unless each is a real directory: a directory
    /// swapped for a symlink to /etc (as an rsync push of a user's tree can do) then stops the write instead of
    /// redirecting it. Nothing is cached between steps: a belief from an earlier step is exactly what the attack
    /// invalidates. The lstats are sent together, so a check costs one round trip whatever the depth.
    /// </summary>
    internal sealed class SftpPathGuard
    {
        private readonly RawSftpRequests _raw;
        private readonly TimeSpan _timeout;

        public SftpPathGuard(RawSftpRequests raw, string resolvedRoot, TimeSpan timeout)
        {
            _raw = raw;
            Root = resolvedRoot.Length > 1 ? resolvedRoot.TrimEnd('/') : resolvedRoot;
            _timeout = timeout;
        }

        /// <summary>The replica root as the server's realpath gave it at Open: absolute, no symlink in it.</summary>
        public string Root { get; }

        /// <summary>The remote path of a normalized relative path.</summary>
        public string Remote(string rel) => rel.Length == 0 ? Root : (Root == "/" ? "/" + rel : Root + "/" + rel);

        /// <summary>
        /// For a step that writes at or below each of <paramref name="rels"/>' parents: throws unless the root and every
        /// ancestor is a real directory now. Returns the lstat of each path itself (null when absent), fetched in the same round trip.
        /// </summary>
        public SftpFileAttributes[] CheckWrite(params string[] rels)
        {
            var probe = Probe(rels);
            var selves = new SftpFileAttributes[rels.Length];
            for (int i = 0; i < rels.Length; i++)
            {
                foreach (var dir in Chain(rels[i]))
                {
                    var r = probe[dir];
                    if (r.Error != null) throw new IOException($"Cannot check replica directory '{Describe(dir)}': {r.Error.Message}", r.Error);
                    if (r.Attrs == null) throw new DirectoryNotFoundException($"Replica directory '{Describe(dir)}' does not exist.");
                    if (r.Attrs.IsSymbolicLink) throw new IOException($"replica path component '{Describe(dir)}' is a symlink; refusing to write through it");
                    if (!r.Attrs.IsDirectory) throw new IOException($"replica path component '{Describe(dir)}' is not a directory; refusing to write below it");
                }
                selves[i] = rels[i].Length == 0 ? probe[""].Attrs : SelfOf(probe[rels[i]], rels[i]);
            }
            return selves;
        }

        /// <summary>
        /// For a step that only reads <paramref name="rel"/>: a symlink among the root and its ancestors throws (it is never
        /// read through); a missing or non-directory ancestor means the entry is absent (null). Otherwise the entry's lstat, or null.
        /// </summary>
        public SftpFileAttributes CheckRead(string rel)
        {
            var probe = Probe(new[] { rel });
            foreach (var dir in Chain(rel))
            {
                var r = probe[dir];
                if (r.Error != null) throw new IOException($"Cannot check replica directory '{Describe(dir)}': {r.Error.Message}", r.Error);
                if (r.Attrs == null) return null;
                if (r.Attrs.IsSymbolicLink) throw new IOException($"replica path component '{Describe(dir)}' is a symlink; refusing to read through it");
                if (!r.Attrs.IsDirectory) return null;
            }
            return rel.Length == 0 ? probe[""].Attrs : SelfOf(probe[rel], rel);
        }

        private static SftpFileAttributes SelfOf(Result r, string rel)
        {
            if (r.Error != null) throw new IOException($"Cannot lstat replica entry '{rel}': {r.Error.Message}", r.Error);
            return r.Attrs;
        }

        private string Describe(string dir) => dir.Length == 0 ? "(replica root " + Root + ")" : dir;

        /// <summary>The root "" and every ancestor of <paramref name="rel"/>, top down (not rel itself).</summary>
        private static IEnumerable<string> Chain(string rel)
        {
            yield return "";
            foreach (var a in RelativePath.Ancestors(rel)) yield return a;
        }

        private struct Result
        {
            public SftpFileAttributes Attrs;
            public Exception Error;
        }

        /// <summary>lstat of every chain directory and every path itself, all requests in flight at once.</summary>
        private Dictionary<string, Result> Probe(IEnumerable<string> rels)
        {
            var tasks = new Dictionary<string, Task<SftpFileAttributes>>(StringComparer.Ordinal);
            foreach (var rel in rels)
            {
                foreach (var dir in Chain(rel))
                    if (!tasks.ContainsKey(dir)) tasks[dir] = _raw.LStatAsync(Remote(dir));
                if (!tasks.ContainsKey(rel)) tasks[rel] = _raw.LStatAsync(Remote(rel));
            }
            var results = new Dictionary<string, Result>(StringComparer.Ordinal);
            foreach (var kv in tasks) results[kv.Key] = Wait(kv.Value);
            return results;
        }

        private Result Wait(Task<SftpFileAttributes> task)
        {
            try
            {
                if (!task.Wait(_timeout))
                {
                    _raw.TimedOut();
                    throw new SshOperationTimeoutException("lstat timed out on the replica.");
                }
                return new Result { Attrs = task.Result };
            }
            catch (AggregateException e) when (e.InnerException is SftpPathNotFoundException) { return new Result(); }
            catch (AggregateException e) when (Sync.ReplicaFailure.IsConnectionLost(e.InnerException))
            {
                // The link is gone or timed out (SSH.NET's own timeout can fire before ours): that is the connection's
                // failure, not this path's, and it is thrown as such.
                if (e.InnerException is SshOperationTimeoutException) _raw.TimedOut();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
            catch (AggregateException e) when (e.InnerException != null) { return new Result { Error = e.InnerException }; }
        }
    }
}
