using System;
using System.Collections.Concurrent;
using System.Linq;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>
    /// What turning kernel events into RawChanges means whatever the interface: the exclude check, the rules for a
    /// directory that arrives and for a rename across an exclusion, the write/attribute hints, and what the reader
    /// loop reads back after each read (the root gone, overflows, anything queued). The backends decode their own
    /// records and keep their own directory maps in step. Owned by the reader thread.
    /// </summary>
    internal abstract class KernelTranslator
    {
        protected readonly GlobFilter _exclude;
        // A rename can move a directory in or out of a pattern with '/' by a change of an ancestor's name.
        protected readonly bool _pathPatterns;
        private readonly ConcurrentQueue<RawChange> _sink;

        protected KernelTranslator(GlobFilter exclude, ConcurrentQueue<RawChange> sink)
        {
            _exclude = exclude;
            _pathPatterns = exclude.HasPathPatterns; // a '/' or '**': what is excluded below a moved directory may change
            _sink = sink;
        }

        /// <summary>Set when the root itself went away (why, for the message); nothing is reported after that.</summary>
        public string RootGone { get; protected set; }
        /// <summary>Queue overflows seen since the caller last reset it.</summary>
        public int Overflows;
        /// <summary>Anything queued since the caller last reset it (then the pump must be woken).</summary>
        public bool Enqueued;

        /// <summary>A directory that arrived (made, moved in, renamed out of an excluded name): watch all of it.</summary>
        protected abstract void WatchNewTree(string dir);

        /// <summary>A subtree the kernel gives no events for, due for its periodic rescan.</summary>
        public void Rescan(string dir, DateTime now) => Emit(ChangeType.Rescan, dir, true, now);

        /// <summary>The kernel dropped events: a Rescan of the root (the caller resyncs the directory map).</summary>
        protected void Overflowed(DateTime now)
        {
            Overflows++;
            Emit(ChangeType.Rescan, "", true, now);
        }

        /// <summary>
        /// Created, or moved in from outside. The hint for a new directory makes the planner compare all of it, so
        /// what was inside before it was watched needs no events of its own.
        /// </summary>
        protected void Arrived(string rel, bool isDir, DateTime now)
        {
            if (_exclude.IsExcluded(rel, isDir)) return;
            Report(ChangeType.Created, rel, isDir, now);
            if (isDir) WatchNewTree(rel);
        }

        /// <summary>
        /// A rename inside the tree (the directory map already moved): a Renamed hint, or across an exclusion a
        /// create or a delete (<paramref name="forgetAt"/> drops what the map has at the excluded new name). True when
        /// it was a Renamed of a directory, which the caller then makes sure is watched at its new name.
        /// </summary>
        protected bool ReportRename(string from, string to, bool isDir, DateTime now, Action<string> forgetAt)
        {
            bool fromOut = _exclude.IsExcluded(from, isDir), toOut = _exclude.IsExcluded(to, isDir);
            if (fromOut && toOut) return false;
            if (fromOut)
            {
                // e.g. an editor's temp file saved over the real name, or a directory renamed out of an excluded name.
                Report(ChangeType.Created, to, isDir, now);
                if (isDir) WatchNewTree(to);
                return false;
            }
            if (toOut)
            {
                Report(ChangeType.Deleted, from, isDir, now);
                if (isDir) forgetAt(to);
                return false;
            }
            Emit(ChangeType.Renamed, to, isDir, now, from);
            return isDir;
        }

        /// <summary>Writes and attribute changes of an entry that stays where it is.</summary>
        protected void ReportContent(string rel, bool isDir, DateTime now, bool closedAfterWrite, bool modified, bool attributes)
        {
            // A close after writing means the writer is done: emit at once instead of waiting out the settle window.
            if (closedAfterWrite) Report(ChangeType.Changed, rel, isDir, now, complete: true);
            else if (modified) Report(ChangeType.Changed, rel, isDir, now);
            if (attributes) Report(ChangeType.AttributeChanged, rel, isDir, now);
        }

        protected void Report(ChangeType kind, string rel, bool isDir, DateTime now, bool complete = false)
        {
            if (_exclude.IsExcluded(rel, isDir)) return;
            Emit(kind, rel, isDir, now, complete: complete);
        }

        protected void Emit(ChangeType kind, string rel, bool isDir, DateTime now, string oldRel = null, bool complete = false)
        {
            _sink.Enqueue(new RawChange(kind, rel, isDir, now, oldRel, complete));
            Enqueued = true;
        }
    }
}
