using System;
using System.Collections.Generic;
using System.Linq;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// A snapshot of a watch for display: its counters and, in service mode, its targets' status. The watch is
    /// either in this session (live) or a mirror service in another process on this machine (read from its status file).
    /// </summary>
    public sealed class MirrorWatchInfo
    {
        /// <summary>The watch's Id within its process (Ids repeat across processes: ProcessId tells them apart).</summary>
        public int Id { get; private set; }
        public int ProcessId { get; private set; }
        /// <summary>True for a watch of this session; false for a service in another process.</summary>
        public bool InThisSession { get; private set; }
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
        /// <summary>When the other process last wrote its status (null for a watch of this session, which is read live).</summary>
        public DateTime? Updated { get; private set; }
        /// <summary>The live watch, for Get-MirrorEvent -Watch (null for another process).</summary>
        public MirrorWatch Watch { get; private set; }

        public static MirrorWatchInfo Of(MirrorWatch w) => new MirrorWatchInfo
        {
            Id = w.Id, ProcessId = ProcessIdentity.CurrentId, InThisSession = true,
            Path = w.Paths, State = w.State.ToString(), Backend = w.Backend, RawChanges = w.RawChanges, EventsEmitted = w.EventsEmitted,
            Overflows = w.Overflows, QueueLength = w.QueueLength, Started = w.Started, LastError = w.LastError,
            Targets = ServiceRegistry.For(w.Id)?.Targets ?? Array.Empty<TargetStatus>(), Watch = w,
        };

        public static MirrorWatchInfo Of(ServiceStatusFile s) => new MirrorWatchInfo
        {
            Id = s.WatchId, ProcessId = s.ProcessId, InThisSession = false,
            Path = s.Paths, State = s.State, Backend = s.Backend, RawChanges = s.RawChanges, EventsEmitted = s.EventsEmitted,
            Overflows = s.Overflows, QueueLength = s.QueueLength, Started = s.Started, LastError = s.LastError,
            Targets = s.Targets.Select(t => t.ToTargetStatus()).ToList(), Updated = s.Updated,
        };
    }
}
