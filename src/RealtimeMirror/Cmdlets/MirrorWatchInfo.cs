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
        /// <summary>"Fanotify", "Inotify" or "Portable" (FileSystemWatcher).</summary>
        public string Backend { get; private set; }
        /// <summary>Why that backend (what Auto found, or that it was asked for).</summary>
        public string BackendNote { get; private set; }
        public long RawChanges { get; private set; }
        public long EventsEmitted { get; private set; }
        public long Overflows { get; private set; }
        public int QueueLength { get; private set; }
        /// <summary>When the watch started, in local time (StartedUtc: the same in UTC).</summary>
        public DateTime Started => StartedUtc.ToLocalTime();
        public DateTime StartedUtc { get; private set; }
        public string LastError { get; private set; }
        public IReadOnlyList<TargetStatus> Targets { get; private set; }
        /// <summary>When the other process last wrote its status, in local time (null for a watch of this session, which is read live).</summary>
        public DateTime? Updated => UpdatedUtc?.ToLocalTime();
        public DateTime? UpdatedUtc { get; private set; }
        /// <summary>The live watch, for Get-MirrorEvent -Watch (null for another process).</summary>
        public MirrorWatch Watch { get; private set; }

        /// <summary>The engine keeps UTC; a time read back without a kind is UTC too.</summary>
        private static DateTime AsUtc(DateTime t) => t.Kind == DateTimeKind.Utc ? t : t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc);

        public static MirrorWatchInfo Of(MirrorWatch w) => new MirrorWatchInfo
        {
            Id = w.Id, ProcessId = ProcessIdentity.CurrentId, InThisSession = true,
            Path = w.Path, State = w.State.ToString(), Backend = w.Backend, BackendNote = w.BackendNote, RawChanges = w.RawChanges, EventsEmitted = w.EventsEmitted,
            Overflows = w.Overflows, QueueLength = w.QueueLength, StartedUtc = w.StartedUtc, LastError = w.LastError,
            Targets = ServiceRegistry.For(w.Id)?.Targets ?? Array.Empty<TargetStatus>(), Watch = w,
        };

        public static MirrorWatchInfo Of(ServiceStatusFile s) => new MirrorWatchInfo
        {
            Id = s.WatchId, ProcessId = s.ProcessId, InThisSession = false,
            Path = s.Paths, State = s.State, Backend = s.Backend, BackendNote = s.BackendNote, RawChanges = s.RawChanges, EventsEmitted = s.EventsEmitted,
            Overflows = s.Overflows, QueueLength = s.QueueLength, StartedUtc = AsUtc(s.Started), LastError = s.LastError,
            Targets = s.Targets.Select(t => t.ToTargetStatus()).ToList(), UpdatedUtc = s.Updated is DateTime u ? AsUtc(u) : (DateTime?)null,
        };
    }
}
