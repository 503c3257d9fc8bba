using System;
using System.Collections.Generic;
using System.Linq;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Planning
{
    /// <summary>
    /// Turns two listings (source and replica, both relative to the same subtree) into an ordered plan:
    /// parents before children, kind changes as delete-then-create, extraneous entries deleted last
    /// (only with delete on, never excluded ones), and directory times set after their contents.
    /// </summary>
    public static class TreePlanner
    {
        public static List<PlannedAction> Plan(IEnumerable<FileMeta> source, IEnumerable<FileMeta> replica,
            bool delete, bool compareOwner, GlobFilter exclude = null)
        {
            exclude = exclude ?? GlobFilter.None;
            var replicaByPath = new Dictionary<string, FileMeta>(StringComparer.Ordinal);
            foreach (var r in replica) replicaByPath[r.RelativePath] = r;

            var plan = new List<PlannedAction>();
            var sourcePaths = new HashSet<string>(StringComparer.Ordinal);
            var directories = new List<FileMeta>();
            foreach (var s in source)
            {
                sourcePaths.Add(s.RelativePath);
                replicaByPath.TryGetValue(s.RelativePath, out var r);
                if (EntryComparer.KindsDiffer(s, r))
                {
                    plan.Add(new PlannedAction(ActionKind.Delete, s.RelativePath, null, r));
                    r = null;
                }
                if (s.Kind == EntryKind.Directory)
                {
                    directories.Add(s);
                    if (r == null) plan.Add(new PlannedAction(ActionKind.MakeDirectory, s.RelativePath, s, null));
                    continue; // its metadata is settled in the last pass, after its contents
                }
                var kind = EntryComparer.Compare(s, r, compareOwner);
                if (kind != null) plan.Add(new PlannedAction(kind.Value, s.RelativePath, s, r));
            }

            if (delete)
            {
                var extraneous = replicaByPath.Values
                    .Where(r => !sourcePaths.Contains(r.RelativePath) && !exclude.IsExcluded(r.RelativePath))
                    .OrderBy(r => r.RelativePath, RelativePath.Utf8Order)
                    .ToList();
                string lastDeletedDir = null;
                foreach (var r in extraneous)
                {
                    if (lastDeletedDir != null && RelativePath.IsSameOrUnder(r.RelativePath, lastDeletedDir)) continue;
                    plan.Add(new PlannedAction(ActionKind.Delete, r.RelativePath, null, r));
                    if (r.Kind == EntryKind.Directory) lastDeletedDir = r.RelativePath;
                }
            }

            // Writing into a directory changes its mtime, so directory metadata goes last, deepest first.
            var touchedParents = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in plan)
                if (p.Kind != ActionKind.SetMetadata) touchedParents.Add(RelativePath.Parent(p.RelativePath) ?? "");
            for (int i = directories.Count - 1; i >= 0; i--)
            {
                var d = directories[i];
                replicaByPath.TryGetValue(d.RelativePath, out var r);
                if (r != null && r.Kind != EntryKind.Directory) r = null;
                if (r != null && EntryComparer.MetadataDiffers(d, r, compareOwner))
                    plan.Add(new PlannedAction(ActionKind.SetMetadata, d.RelativePath, d, r));
                else if (r == null || touchedParents.Contains(d.RelativePath))
                    plan.Add(new PlannedAction(ActionKind.SetMetadata, d.RelativePath, d, r, quiet: true));
            }
            return plan;
        }
    }
}
