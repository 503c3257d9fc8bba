using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Results;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>Carries out one planned action on a replica and says what it did.</summary>
    public static class ActionRunner
    {
        /// <summary>Returns the result, or null for quiet housekeeping and for sources that vanished meanwhile.</summary>
        public static SyncResult Run(PlannedAction a, IReplica replica, string sourceRoot, CancellationToken cancel)
        {
            var clock = Stopwatch.StartNew();
            var full = RelativePath.ToFull(sourceRoot, a.RelativePath);
            bool existed = a.Replica != null;
            bool isDir = (a.Source ?? a.Replica)?.Kind == EntryKind.Directory;
            SyncResult Result(SyncAction action, long bytes = 0, string sourcePath = null) =>
                new SyncResult(replica.TargetName, a.RelativePath, action, isDir, bytes, bytes, 0, replica.TransportName,
                    a.OldRelativePath, sourcePath ?? (a.Source != null ? full : null), clock.Elapsed);
            try
            {
                switch (a.Kind)
                {
                    case ActionKind.MakeDirectory:
                        replica.CreateDirectory(a.RelativePath, a.Source);
                        return Result(SyncAction.Copied);
                    case ActionKind.SendFile:
                        return Result(existed ? SyncAction.Updated : SyncAction.Copied, ((dynamic)replica).UploadFile(full, a.Source, cancel));
                    case ActionKind.CheckContent:
                        if (((dynamic)replica).ContentEquals(full, a.RelativePath, cancel))
                        {
                            replica.ApplyMetadata(a.Source);
                            return Result(SyncAction.MetadataOnly);
                        }
                        return Result(SyncAction.Updated, ((dynamic)replica).UploadFile(full, a.Source, cancel));
                    case ActionKind.SetMetadata:
                        replica.ApplyMetadata(a.Source);
                        return a.Quiet ? null : Result(SyncAction.MetadataOnly);
                    case ActionKind.MakeSymlink:
                        replica.CreateSymlink(a.Source);
                        return Result(existed ? SyncAction.Updated : SyncAction.Copied);
                    case ActionKind.Delete:
                        replica.Delete(a.RelativePath);
                        return a.Quiet ? null : Result(SyncAction.Deleted);
                    case ActionKind.Rename:
                        replica.Rename(a.OldRelativePath, a.RelativePath);
                        return Result(SyncAction.Renamed);
                    default:
                        throw new ArgumentOutOfRangeException(nameof(a), a.Kind, "unknown action");
                }
            }
            catch (Exception e) when (a.Source != null && (e is FileNotFoundException || e is DirectoryNotFoundException) && !File.Exists(full) && !Directory.Exists(full))
            {
                return null; // the source went away after we listed it; its delete event (or the next compare) handles it
            }
        }
    }
}
