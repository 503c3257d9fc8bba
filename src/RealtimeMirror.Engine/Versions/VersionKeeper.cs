using System;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Engine.Versions
{
    /// <summary>
    /// Moves replica entries the mirror is about to delete or overwrite into the versions area, under one stamp for
    /// the whole plan: a rename on the replica itself (never a copy), through the replica's own confined Rename, with
    /// the stamp's directories made as needed. Safe to call from the executor's concurrent uploads.
    /// </summary>
    public sealed class VersionKeeper
    {
        private readonly IReplica _replica;

        public VersionKeeper(IReplica replica, string stamp = null)
        {
            _replica = replica;
            Stamp = stamp ?? VersionArea.NewStamp();
        }

        /// <summary>The stamp directory name this plan's versions go to.</summary>
        public string Stamp { get; }

        /// <summary>The stamp directory relative to the replica root (rsync's --backup-dir for a push of this plan).</summary>
        public string StampDirectory => VersionArea.StampDirectory(Stamp);

        /// <summary>
        /// Moves the entry at <paramref name="relativePath"/> (a file, link, special, or a directory with everything in
        /// it) to <c>.rtm-versions/STAMP/relativePath</c>. False when there is nothing there to keep.
        /// </summary>
        public bool MoveAside(string relativePath)
        {
            var rel = RelativePath.Normalize(relativePath);
            if (rel.Length == 0 || VersionArea.IsReserved(rel)) return false;
            var to = VersionArea.PathFor(Stamp, rel);
            try
            {
                // Mostly the stamp's directory for this parent exists already: one rename.
                _replica.Rename(rel, to);
                return true;
            }
            catch (Exception e) when (!ReplicaFailure.IsConnectionLost(e))
            {
                if (_replica.Stat(rel) == null) return false; // nothing there (any more) to keep
                MakeParents(to);
                _replica.Rename(rel, to);
                return true;
            }
        }

        private void MakeParents(string to)
        {
            foreach (var dir in RelativePath.Ancestors(to))
            {
                var meta = _replica.Stat(dir);
                if (meta == null) _replica.CreateDirectory(dir, null);
                else if (!meta.IsDirectory) throw new System.IO.IOException($"Replica '{_replica.TargetName}': '{dir}' in the versions area is not a directory.");
            }
        }
    }
}
