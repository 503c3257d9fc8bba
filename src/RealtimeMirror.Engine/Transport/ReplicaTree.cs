using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Planning;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// Every entry below one replica directory, depth first in the replica's listing order, through
    /// <see cref="IReplica.List"/> only (so every transport's confinement applies, and no link is descended).
    /// A directory that cannot be listed is reported through <paramref name="onError"/> and skipped.
    /// </summary>
    public static class ReplicaTree
    {
        public static IEnumerable<FileMeta> Walk(IReplica replica, string relativeDir, Action<string, Exception> onError = null)
        {
            relativeDir ??= "";
            if (relativeDir.Length > 0 && replica.Stat(relativeDir)?.Kind != EntryKind.Directory) yield break; // nothing there: nothing below
            var pending = new Stack<string>();
            pending.Push(relativeDir);
            while (pending.Count > 0)
            {
                var dir = pending.Pop();
                List<FileMeta> list;
                try { list = replica.List(dir); }
                catch (Exception e) when (!Sync.ReplicaFailure.IsConnectionLost(e))
                {
                    onError?.Invoke(dir, e);
                    continue;
                }
                for (int i = list.Count - 1; i >= 0; i--)
                    if (list[i].Kind == EntryKind.Directory) pending.Push(list[i].RelativePath);
                foreach (var m in list) yield return m;
            }
        }
    }
}
