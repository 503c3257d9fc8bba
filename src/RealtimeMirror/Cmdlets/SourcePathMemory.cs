using System;
using System.Collections.Generic;
using System.Linq;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Records with a target the source roots mirrored to it (MirrorTarget.SourcePaths), so Get-MirrorVersion knows
    /// each root's replica subdirectory and Restore-MirrorVersion where "the source" is. Written only when it changed;
    /// a failure to write is not the sync's failure (the caller gets false).
    /// </summary>
    internal static class SourcePathMemory
    {
        public static bool Remember(TargetStore store, string targetName, IReadOnlyList<string> roots)
        {
            try
            {
                var saved = store.Find(targetName);
                if (saved == null || roots == null || roots.Count == 0) return false;
                if (saved.SourcePaths != null && saved.SourcePaths.SequenceEqual(roots, StringComparer.Ordinal)) return true;
                saved.SourcePaths = roots.ToArray();
                store.Save(saved);
                return true;
            }
            catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException || e is Newtonsoft.Json.JsonException)
            {
                return false;
            }
        }
    }
}
