using System;
using System.Threading;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Results;

namespace RealtimeMirror.Engine.Sync
{
    /// <summary>How a sync runs and where it reports. The callbacks run on the calling thread.</summary>
    public sealed class SyncOptions
    {
        /// <summary>Delete replica entries the source does not have (tree syncs; event deletes always propagate).</summary>
        public bool Delete { get; set; }
        public GlobFilter Exclude { get; set; } = GlobFilter.None;
        /// <summary>Asked before every change; false skips it (how -WhatIf and -Confirm reach the engine).</summary>
        public Func<PlannedAction, bool> ShouldProcess { get; set; } = _ => true;
        public Action<SyncResult> OnResult { get; set; } = _ => { };
        /// <summary>A per-entry failure; the sync goes on with the rest of the tree.</summary>
        public Action<string, Exception> OnError { get; set; } = (_, e) => { };
        /// <summary>(done, total, current relative path)</summary>
        public Action<int, int, string> OnProgress { get; set; } = (_, __, ___) => { };
        /// <summary>Also report entries that were already equal.</summary>
        public bool IncludeSkipped { get; set; }
        public CancellationToken Cancel { get; set; }
    }
}
