using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Events;

namespace RealtimeMirror.Engine.Planning
{
    /// <summary>
    /// "This path may have changed": all a watcher event, a Rescan, an initial sync or a one-shot sync ever tells
    /// the planner. The planner decides what to do by comparing the source as it is now with the replica as it is
    /// now, so a stale, reordered, merged or lost hint can cost time, never correctness.
    /// </summary>
    public sealed class SyncHint
    {
        public SyncHint(string path, bool subtree, bool contentChanged = false, string renamedFrom = null)
        {
            Path = path ?? "";
            Subtree = subtree;
            ContentChanged = contentChanged;
            RenamedFrom = renamedFrom;
        }

        /// <summary>'/'-separated path below the source root; "" is the root.</summary>
        public string Path { get; }
        /// <summary>Compare everything below too (a new or moved directory, a Rescan, a whole-tree sync).</summary>
        public bool Subtree { get; }
        /// <summary>The file's content was written: compare the content even when size and mtime agree (same-second rewrites).</summary>
        public bool ContentChanged { get; }
        /// <summary>The source says this entry came from here: the replica may rename instead of copying, if the planner can prove it.</summary>
        public string RenamedFrom { get; }

        public static SyncHint WholeTree() => new SyncHint("", subtree: true);

        /// <summary>
        /// The hints one event stands for: its path, its old path for a rename, and their parents (whose listing and
        /// mtime changed). A directory that appeared (created or moved in) is compared with everything inside.
        /// </summary>
        public static IEnumerable<SyncHint> FromEvent(ChangeType kind, string path, string oldPath, bool isDirectory)
        {
            path = Paths.RelativePath.Normalize(path);
            switch (kind)
            {
                case ChangeType.Rescan:
                    yield return new SyncHint(path, subtree: true);
                    yield break;
                case ChangeType.Renamed:
                    yield return new SyncHint(path, subtree: true, contentChanged: !isDirectory,
                        renamedFrom: oldPath == null ? null : Paths.RelativePath.Normalize(oldPath));
                    if (oldPath != null)
                    {
                        var old = Paths.RelativePath.Normalize(oldPath);
                        yield return new SyncHint(old, subtree: false);
                        if (old.Length > 0) yield return new SyncHint(Paths.RelativePath.Parent(old), subtree: false);
                    }
                    break;
                case ChangeType.Created:
                    yield return new SyncHint(path, subtree: isDirectory, contentChanged: !isDirectory);
                    break;
                case ChangeType.Changed:
                    // A directory "changed" when it was replaced (deleted and made again): what is inside is new too.
                    yield return new SyncHint(path, subtree: isDirectory, contentChanged: !isDirectory);
                    break;
                default:
                    yield return new SyncHint(path, subtree: false);
                    break;
            }
            if (path.Length > 0) yield return new SyncHint(Paths.RelativePath.Parent(path), subtree: false);
        }

        public override string ToString() => (Subtree ? "subtree " : "entry ") + (Path.Length == 0 ? "(root)" : Path) +
            (ContentChanged ? " +content" : "") + (RenamedFrom != null ? " from " + RenamedFrom : "");
    }
}
