using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Service.Logging;

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
        /// <summary>-AllowMassDelete: the first plan past the halt threshold of each target is executed, not halted.</summary>
        public bool AllowMassDelete { get; set; }
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
        /// <summary>(target, line): -Verbose detail (connection, host key, rsync command, batches); null = off, and then
        /// no line is even built. Called on worker threads.</summary>
        public Action<string, string> OnVerbose { get; set; }
        /// <summary>Every result, error and verbose line is also written here, on the worker thread; disposed when the
        /// service stops.</summary>
        public IMirrorLog Log { get; set; }
        /// <summary>Each target compares the whole tree this often, repairing drift made on a replica behind our back; zero disables.</summary>
        public TimeSpan VerifyInterval { get; set; } = TimeSpan.FromHours(1);
        /// <summary>Where the status file for other processes goes (null: <see cref="RuntimeDirectory.Resolve"/>).</summary>
        public string StatusDirectory { get; set; }
        /// <summary>Where each target's sync watermark is kept (null: state/ beside the target file): see <see cref="SyncWatermark"/>.</summary>
        public string WatermarkDirectory { get; set; }
        /// <summary>The status file could not be written; called on the publisher's thread.</summary>
        public Action<Exception> OnStatusError { get; set; } = _ => { };
        /// <summary>Test hook: called with the target's name on its worker thread before each batch; a throw there
        /// stands for a bug in the worker loop itself.</summary>
        internal Action<string> BeforeBatchForTests { get; set; }
        /// <summary>Test hook: called with the target's name and the event on the fan-out thread before the event is
        /// queued for that target; a throw there stands for an event the target cannot queue.</summary>
        internal Action<string, Events.MirrorEvent> BeforeEnqueueForTests { get; set; }
    }
}
