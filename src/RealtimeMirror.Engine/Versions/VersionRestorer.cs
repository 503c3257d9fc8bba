using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Engine.Versions
{
    /// <summary>
    /// Puts a kept version back into a local directory (the source root, or any other): read from the replica through
    /// its own confined reads, written beneath the held destination root by the one temp-name-and-rename of
    /// <see cref="LocalReplica.WriteFile"/>, with the version's mode, time and (as root) owner. The version stays kept.
    /// </summary>
    public static class VersionRestorer
    {
        public static SyncResult Restore(IReplica replica, MirrorVersion version, string destinationRoot, CancellationToken cancel)
        {
            if (version == null) throw new ArgumentNullException(nameof(version));
            var clock = Stopwatch.StartNew();
            var rel = RelativePath.Normalize(version.Path);
            if (rel.Length == 0 || VersionArea.IsReserved(rel))
                throw new InvalidOperationException($"'{version.Path}' is not a path a version can be restored to.");
            var kept = replica.Stat(version.VersionPath)
                ?? throw new FileNotFoundException($"Target '{replica.TargetName}': the version '{version.VersionPath}' is gone (pruned?).", version.VersionPath);
            using var destination = new LocalReplica("restore", destinationRoot, preserveOwner: true);
            destination.Open(cancel);
            foreach (var dir in RelativePath.Ancestors(rel))
            {
                var d = destination.Stat(dir);
                if (d == null) destination.CreateDirectory(dir, null);
                else if (d.Kind != EntryKind.Directory) throw new IOException($"Cannot restore '{rel}': '{dir}' in '{destinationRoot}' is not a directory.");
            }
            var existing = destination.Stat(rel);
            if (existing != null && existing.Kind == EntryKind.Directory)
                throw new IOException($"Cannot restore '{rel}': '{RelativePath.ToFull(destinationRoot, rel)}' is a directory.");
            long bytes = 0;
            switch (kept.Kind)
            {
                case EntryKind.File:
                    using (var input = replica.OpenRead(version.VersionPath, out var meta))
                        bytes = destination.WriteFile(rel, input, meta.WithPath(rel), cancel);
                    break;
                case EntryKind.Symlink:
                    destination.CreateSymlink(kept.WithPath(rel));
                    break;
                case EntryKind.Directory:
                    throw new NotSupportedException($"'{version.VersionPath}' is a directory: restore the versions inside it.");
                default:
                    destination.CreateSpecial(kept.WithPath(rel));
                    break;
            }
            return new SyncResult(replica.TargetName, rel, SyncAction.Restored, false, bytes, bytes, 0, replica.TransportName,
                null, RelativePath.ToFull(destinationRoot, rel), clock.Elapsed);
        }
    }
}
