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
        public GlobFilter Exclude { get; set; } = GlobFilter.None;
        /// <summary>Delete replica entries the source confirms are gone. Off (a one-shot sync without -Delete): extraneous
        /// entries stay; an entry whose kind changed is still replaced.</summary>
        public bool Delete { get; set; } = true;
        /// <summary>Asked before every change the user would want to know of; false skips it and everything below it
        /// (how -Confirm reaches the engine).</summary>
        public Func<PlannedAction, bool> ShouldProcess { get; set; } = _ => true;
        /// <summary>-WhatIf: plan everything, ask ShouldProcess for each visible action (it prints "What if"), change nothing.</summary>
        public bool DryRun { get; set; }
        public Action<SyncResult> OnResult { get; set; } = _ => { };
        /// <summary>A per-entry failure; the sync goes on with the rest of the tree.</summary>
        public Action<string, Exception> OnError { get; set; } = (_, e) => { };
        /// <summary>Something left out on purpose (path, why): a fifo over SFTP, say.</summary>
        public Action<string, string> OnWarning { get; set; } = (_, __) => { };
        /// <summary>(done, total, current relative path)</summary>
        public Action<int, int, string> OnProgress { get; set; } = (_, __, ___) => { };
        /// <summary>Also report entries that were already equal.</summary>
        public bool IncludeSkipped { get; set; }
        public CancellationToken Cancel { get; set; }
        /// <summary>A plan deleting or overwriting more of the replica than this is not executed (MassDeletionHaltedException); null: no check.</summary>
        public HaltThreshold HaltThreshold { get; set; }
        /// <summary>Execute a plan even past the halt threshold or with an emptied source root (-Force, Resume-MirrorTarget).</summary>
        public bool AllowMassDelete { get; set; }
        /// <summary>The target keeps versions: every entry a plan deletes or overwrites is first moved into the replica's
        /// versions area (see Versions/). Null: entries are deleted and overwritten in place.</summary>
        public Versions.VersionPolicy KeepVersions { get; set; }
    }
}
