using System;
using System.Collections.Generic;

namespace RealtimeMirror.Engine.Planning
{
    /// <summary>What the planner decided: ordered actions, and what it could not look at (nothing is deleted below those).</summary>
    public sealed class Plan
    {
        public List<PlannedAction> Actions { get; } = new List<PlannedAction>();
        /// <summary>Source or replica paths that could not be read or listed; each suppressed deletes below it.</summary>
        public List<(string Path, Exception Error)> Errors { get; } = new List<(string, Exception)>();
        /// <summary>Entries left out on purpose, e.g. a fifo the transport cannot make: (path, why).</summary>
        public List<(string Path, string Why)> Skipped { get; } = new List<(string, string)>();
        /// <summary>True when some source directory could not be listed (rsync's io_error: its receiver then deletes nothing either).</summary>
        public bool SourceListingFailed { get; set; }
        /// <summary>Every source path compared (for -IncludeSkipped).</summary>
        public List<string> Compared { get; } = new List<string>();
        /// <summary>The root was compared whole (its listing taken): <see cref="ReplicaEntriesListed"/> is then the replica's size.</summary>
        public bool WholeTree { get; set; }
        /// <summary>Replica entries seen in the directory listings this plan took (what the mass-deletion halt counts against).</summary>
        public long ReplicaEntriesListed { get; set; }
    }
}
