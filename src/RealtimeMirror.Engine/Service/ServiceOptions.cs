using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Results;

namespace RealtimeMirror.Engine.Service
{
    public sealed class ServiceOptions
    {
        public IReadOnlyList<string> Roots { get; set; } = Array.Empty<string>();
        public GlobFilter Exclude { get; set; } = GlobFilter.None;
        /// <summary>-DeleteMode from the command line; null: each target's saved mode, else Always.</summary>
        public Targets.DeleteMode? DeleteMode { get; set; }
        /// <summary>Compare every root with the target once, before applying events (the watch is already running).</summary>
        public bool InitialSync { get; set; }
        /// <summary>Queue bound per target; beyond it the queue becomes one Rescan per root.</summary>
        public int MaxQueuedEvents { get; set; } = 100_000;
        /// <summary>Events applied together (one rsync push for their content where the host has rsync).</summary>
        public int MaxBatch { get; set; } = 20_000;
        public TimeSpan RetryFirst { get; set; } = TimeSpan.FromSeconds(1);
        public TimeSpan RetryMax { get; set; } = TimeSpan.FromSeconds(60);
        /// <summary>Called on worker threads: must only hand the object on (e.g. to a BlockingCollection).</summary>
        public Action<SyncResult> OnResult { get; set; } = _ => { };
        /// <summary>(target, relative path, error); called on worker threads.</summary>
        public Action<string, string, Exception> OnError { get; set; } = (_, __, ___) => { };
    }
}
