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
        public SyncHint(string path, bool subtree, bool contentChanged = false, string renamedFrom = null, DateTime? changedSince = null)
        {
            Path = path ?? "";
            Subtree = subtree;
            ContentChanged = contentChanged;
            RenamedFrom = renamedFrom;
            ChangedSince = changedSince;
        }

        /// <summary>'/'-separated path below the source root; "" is the root.</summary>
        public string Path { get; }
        /// <summary>Compare everything below too (a new or moved directory, a Rescan, a whole-tree sync).</summary>
        public bool Subtree { get; }
        /// <summary>The file's content was written: compare the content even when size and mtime agree (same-second rewrites).</summary>
        public bool ContentChanged { get; }
        /// <summary>The source says this entry came from here: the replica may rename instead of copying, if the planner can prove it.</summary>
        public string RenamedFrom { get; }
        /// <summary>
        /// UTC. Files at or below <see cref="Path"/> whose source ctime is at or after this moment are content-compared
        /// even when size and mtime agree. It stands in for the per-file <see cref="ContentChanged"/> of hints that were
        /// lost or folded (a kernel queue overflow, a folded backlog, changes made while the service was down): ctime
        /// cannot be set back by users, so a same-size rewrite with its mtime restored is still caught.
        /// </summary>
        public DateTime? ChangedSince { get; }

        public static SyncHint WholeTree(DateTime? changedSince = null) => new SyncHint("", subtree: true, changedSince: changedSince);

        /// <summary>One hint for one path that does what both do: the wider compare, the earlier ChangedSince.</summary>
        public SyncHint MergedWith(SyncHint other) =>
            new SyncHint(Path, Subtree || other.Subtree, ContentChanged || other.ContentChanged, RenamedFrom ?? other.RenamedFrom,
                Earliest(ChangedSince, other.ChangedSince));

        /// <summary>
        /// How far before a change's report its ctime can lie: the report comes after the write, by the watcher's
        /// settle window, maximum delay and any lag in reading the kernel's queue. Generous, since too early only costs
        /// content compares of recently changed files.
        /// </summary>
        public static readonly TimeSpan ReportLag = TimeSpan.FromSeconds(60);

        /// <summary>The ChangedSince that covers a change reported at <paramref name="reportedUtc"/>.</summary>
        public static DateTime ChangedSinceFor(DateTime reportedUtc) => reportedUtc - ReportLag;

        /// <summary>
        /// The hints of one event. A Rescan says events below it may have been lost (a kernel queue overflow, a
        /// folded backlog, a watcher restart) up to its time stamp, so files changed shortly before it are
        /// content-compared too.
        /// </summary>
        public static IEnumerable<SyncHint> FromEvent(MirrorEvent e) =>
            FromEvent(e.ChangeType, e.RelativePath, e.OldRelativePath, e.IsDirectory,
                e.ChangeType == ChangeType.Rescan ? ChangedSinceFor(e.TimeStampUtc) : (DateTime?)null);

        public static DateTime? Earliest(DateTime? a, DateTime? b) => a == null ? b : b == null ? a : (a < b ? a : b);

        /// <summary>
        /// The hints one event stands for: its path, its old path for a rename, and their parents (whose listing and
        /// mtime changed). A directory that appeared (created or moved in) is compared with everything inside.
        /// </summary>
        /// <param name="changedSince">For a Rescan: since when changes below it may have gone unreported (see <see cref="ChangedSince"/>).</param>
        public static IEnumerable<SyncHint> FromEvent(ChangeType kind, string path, string oldPath, bool isDirectory, DateTime? changedSince = null)
        {
            path = Paths.RelativePath.Normalize(path);
            switch (kind)
            {
                case ChangeType.Rescan:
                    yield return new SyncHint(path, subtree: true, changedSince: changedSince);
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
            (ContentChanged ? " +content" : "") + (RenamedFrom != null ? " from " + RenamedFrom : "") +
            (ChangedSince != null ? " changed-since " + ChangedSince.Value.ToString("o") : "");
    }
}
