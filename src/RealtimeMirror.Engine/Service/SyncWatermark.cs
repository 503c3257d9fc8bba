using System;
using System.IO;
using System.Security.Cryptography;
using Newtonsoft.Json;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Engine.Service
{
    /// <summary>
    /// "Every source change with a ctime before this moment is on this replica", kept on disk per (target, root), so
    /// a service that was killed or stopped can start again without trusting the quick check for what changed
    /// meanwhile. The initial sync content-compares every file whose ctime is at or after the mark (see
    /// <see cref="Planning.SyncHint.ChangedSince"/>): a same-size rewrite whose mtime was put back while the service was
    /// down is still caught, while the rest of the tree is quick-checked as rsync would. Without a mark (first run, or
    /// the file is unreadable) the initial sync is a plain quick-check compare.
    ///
    /// The mark only moves forward after a batch with nothing left queued, in flight or waiting for a retry, and it
    /// stays <see cref="Planning.SyncHint.ReportLag"/> behind that moment, for changes still in the watcher's settle
    /// window. Files live beside the target file (state/), one small JSON each, written atomically and private.
    /// </summary>
    internal sealed class SyncWatermark
    {
        private readonly string _file;
        private DateTime _lastWrite = DateTime.MinValue;

        public SyncWatermark(string directory, MirrorTarget target, string root)
        {
            directory ??= DefaultDirectory();
            _file = Path.Combine(directory, KeyOf(target, root) + ".json");
        }

        public string FilePath => _file;

        public static string DefaultDirectory() => Path.Combine(Path.GetDirectoryName(TargetStore.DefaultPath()) ?? ".", "state");

        /// <summary>The saved mark (UTC), or null when there is none or it cannot be read.</summary>
        public DateTime? Read()
        {
            try
            {
                if (!File.Exists(_file)) return null;
                var saved = JsonConvert.DeserializeObject<Saved>(File.ReadAllText(_file));
                return saved?.InSyncBeforeUtc?.ToUniversalTime();
            }
            catch (Exception) { return null; } // a mark we cannot read only costs the initial sync its content checks
        }

        private sealed class Saved
        {
            public DateTime? InSyncBeforeUtc { get; set; }
        }

        /// <summary>
        /// Saves "in sync before <paramref name="inSyncBeforeUtc"/>" at most once a second (a burst of batches writes one
        /// file, not one per batch). Failures are swallowed: the mark is an optimisation of the next start, never a
        /// reason to stop mirroring.
        /// </summary>
        public void Advance(DateTime inSyncBeforeUtc, bool force = false)
        {
            var now = DateTime.UtcNow;
            if (!force && now - _lastWrite < TimeSpan.FromSeconds(1)) return;
            try
            {
                var dir = Path.GetDirectoryName(_file);
                if (OperatingSystem.IsWindows()) Directory.CreateDirectory(dir);
                else Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                ServiceStatusFile.WriteAtomically(_file, JsonConvert.SerializeObject(new Saved { InSyncBeforeUtc = inSyncBeforeUtc.ToUniversalTime() }));
                _lastWrite = now;
            }
            catch (Exception) { }
        }

        /// <summary>A file name for (target, root): the target's identity and the root, hashed (names may hold any byte).</summary>
        private static string KeyOf(MirrorTarget t, string root)
        {
            var identity = string.Join("\0", t.Name ?? "", t.Kind.ToString(), t.Path ?? "", t.HostName ?? "", t.Port.ToString(),
                t.User ?? "", t.RemotePath ?? "", root ?? "");
            var hash = SHA256.HashData(PathEncoding.ToBytes(identity)); // byte-exact: roots may differ only in undecodable bytes
            return "watermark-" + Convert.ToHexString(hash, 0, 16).ToLowerInvariant();
        }
    }
}
