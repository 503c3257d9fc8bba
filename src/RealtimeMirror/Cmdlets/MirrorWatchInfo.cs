using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>A snapshot of a watch for display: its counters and, in service mode, its targets' status.</summary>
    public sealed class MirrorWatchInfo
    {
        public int Id { get; private set; }
        public IReadOnlyList<string> Path { get; private set; }
        public string State { get; private set; }
        /// <summary>"Inotify" or "Portable" (FileSystemWatcher).</summary>
        public string Backend { get; private set; }
        public long RawChanges { get; private set; }
        public long EventsEmitted { get; private set; }
        public long Overflows { get; private set; }
        public int QueueLength { get; private set; }
        public DateTime Started { get; private set; }
        public string LastError { get; private set; }
        public IReadOnlyList<TargetStatus> Targets { get; private set; }
        /// <summary>The live watch, for Get-MirrorEvent -Watch.</summary>
        public MirrorWatch Watch { get; private set; }

        public static MirrorWatchInfo Of(MirrorWatch w) => new MirrorWatchInfo
        {
            Id = w.Id, Path = w.Paths, State = w.State.ToString(), Backend = w.Backend, RawChanges = w.RawChanges, EventsEmitted = w.EventsEmitted,
            Overflows = w.Overflows, QueueLength = w.QueueLength, Started = w.Started, LastError = w.LastError,
            Targets = ServiceRegistry.For(w.Id)?.Targets ?? Array.Empty<TargetStatus>(), Watch = w,
        };
    }
}
