using System;
using System.Collections.Generic;
using System.Linq;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Engine.Versions
{
    /// <summary>Reads what a replica's versions area holds (never writes).</summary>
    public static class VersionCatalog
    {
        /// <summary>The stamp directories of the area, oldest first, with their times; names that are not stamps are ignored.</summary>
        public static List<(string Stamp, DateTime Time)> Stamps(IReplica replica)
        {
            var area = replica.Stat(VersionArea.DirectoryName);
            if (area == null || area.Kind != EntryKind.Directory) return new List<(string, DateTime)>();
            var stamps = new List<(string, DateTime)>();
            foreach (var e in replica.List(VersionArea.DirectoryName))
            {
                var name = RelativePath.Name(e.RelativePath);
                if (e.Kind == EntryKind.Directory && VersionArea.TryParseStamp(name, out var t)) stamps.Add((name, t));
            }
            stamps.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
            return stamps;
        }

        /// <summary>
        /// Every kept file, link or special (directories are only containers), newest first, optionally only those
        /// kept at or after <paramref name="since"/> and whose path <paramref name="include"/> accepts.
        /// </summary>
        public static IEnumerable<MirrorVersion> List(IReplica replica, string subdirectory = "", string sourceRoot = null,
            Func<string, bool> include = null, DateTime? since = null, Action<string, Exception> onError = null)
        {
            var stamps = Stamps(replica);
            for (int i = stamps.Count - 1; i >= 0; i--)
            {
                var (stamp, time) = stamps[i];
                if (since is DateTime s && time < s.ToUniversalTime()) continue;
                var dir = VersionArea.StampDirectory(stamp);
                foreach (var e in ReplicaTree.Walk(replica, dir, onError))
                {
                    if (e.Kind == EntryKind.Directory) continue;
                    var path = e.RelativePath.Substring(dir.Length + 1);
                    if (include != null && !include(path)) continue;
                    yield return new MirrorVersion(replica.TargetName, subdirectory, sourceRoot, stamp, time, e, path);
                }
            }
        }
    }
}
