using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Newtonsoft.Json;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Engine.Service
{
    /// <summary>One target's line in a status file: <see cref="TargetStatus"/> as plain data.</summary>
    public sealed class TargetStatusRecord
    {
        public string Name { get; set; }
        public string State { get; set; }
        public int QueueLength { get; set; }
        public double LagSeconds { get; set; }
        public DateTime? OldestPending { get; set; }
        public long BytesSent { get; set; }
        public long FilesApplied { get; set; }
        public long Applied { get; set; }
        public int RetrySetSize { get; set; }
        public long Errors { get; set; }
        public string LastError { get; set; }
        public DateTime? LastErrorTime { get; set; }
        public DateTime? LastSync { get; set; }
        public DateTime? NextRetry { get; set; }
        public long VerifyCount { get; set; }
        public DateTime? LastVerify { get; set; }

        public static TargetStatusRecord Of(TargetStatus s) => new TargetStatusRecord
        {
            Name = s.Target, State = s.State.ToString(), QueueLength = s.QueueLength, LagSeconds = Math.Round(s.Lag.TotalSeconds, 3),
            OldestPending = s.OldestPendingUtc, BytesSent = s.BytesSent, FilesApplied = s.FilesApplied, Applied = s.Applied,
            RetrySetSize = s.RetrySetSize, Errors = s.Errors, LastError = s.LastError, LastErrorTime = s.LastErrorTimeUtc,
            LastSync = s.LastSyncUtc, NextRetry = s.NextRetryUtc, VerifyCount = s.VerifyCount, LastVerify = s.LastVerifyUtc,
        };

        /// <summary>Back to the object Get-MirrorWatch shows for local services, so both look the same.</summary>
        public TargetStatus ToTargetStatus() => new TargetStatus
        {
            Target = Name, State = Enum.TryParse<TargetState>(State, out var st) ? st : TargetState.Failed, QueueLength = QueueLength,
            OldestPendingUtc = UtcTime.Of(OldestPending), BytesSent = BytesSent, FilesApplied = FilesApplied, Applied = Applied, RetrySetSize = RetrySetSize,
            Errors = Errors, LastError = LastError, LastErrorTimeUtc = UtcTime.Of(LastErrorTime), LastSyncUtc = UtcTime.Of(LastSync),
            NextRetryUtc = UtcTime.Of(NextRetry), VerifyCount = VerifyCount, LastVerifyUtc = UtcTime.Of(LastVerify),
        };

        /// <summary>Work waiting or under way: the status is then refreshed every second.</summary>
        internal bool IsBusy => QueueLength > 0 || RetrySetSize > 0 || (State != nameof(TargetState.Idle) && State != nameof(TargetState.Stopped) && State != nameof(TargetState.Failed));
    }

    /// <summary>
    /// The status a running mirror service publishes for other processes (Get-/Stop-MirrorWatch): one JSON file per
    /// service, named PID-WATCHID.json, written whole to a temp file and renamed over, so a reader never sees half.
    /// </summary>
    public sealed class ServiceStatusFile
    {
        public int ProcessId { get; set; }
        /// <summary>Identifies the process beside its pid (see <see cref="ProcessIdentity.StartMark"/>).</summary>
        public long ProcessStartMark { get; set; }
        public DateTime? ProcessStartTime { get; set; }
        public int WatchId { get; set; }
        public List<string> Paths { get; set; } = new List<string>();
        public string Backend { get; set; }
        public string BackendNote { get; set; }
        public string State { get; set; }
        public string LastError { get; set; }
        public DateTime Started { get; set; }
        public long RawChanges { get; set; }
        public long EventsEmitted { get; set; }
        public long Overflows { get; set; }
        public int QueueLength { get; set; }
        /// <summary>When this file was written.</summary>
        public DateTime? Updated { get; set; }
        public List<TargetStatusRecord> Targets { get; set; } = new List<TargetStatusRecord>();

        private static readonly JsonSerializerSettings Settings = new JsonSerializerSettings
        {
            DateTimeZoneHandling = DateTimeZoneHandling.Utc,
            Formatting = Formatting.Indented,
        };

        private static readonly Lazy<DateTime?> OwnStartTime = new Lazy<DateTime?>(() => ProcessIdentity.StartTimeOf(ProcessIdentity.CurrentStartMark));

        public static ServiceStatusFile Capture(MirrorWatch watch, IEnumerable<TargetStatus> targets) => new ServiceStatusFile
        {
            ProcessId = ProcessIdentity.CurrentId, ProcessStartMark = ProcessIdentity.CurrentStartMark, ProcessStartTime = OwnStartTime.Value,
            WatchId = watch.Id, Paths = watch.Path.ToList(), Backend = watch.Backend, BackendNote = watch.BackendNote, State = watch.State.ToString(), LastError = watch.LastError,
            Started = watch.StartedUtc, RawChanges = watch.RawChanges, EventsEmitted = watch.EventsEmitted, Overflows = watch.Overflows,
            QueueLength = watch.QueueLength, Targets = targets.Select(TargetStatusRecord.Of).ToList(),
        };

        internal bool IsBusy => QueueLength > 0 || Targets.Any(t => t.IsBusy);

        [JsonIgnore]
        public string FileName => RuntimeDirectory.StatusFileName(ProcessId, WatchId);

        public string ToJson() => JsonConvert.SerializeObject(this, Settings);

        public static ServiceStatusFile FromJson(string json) => JsonConvert.DeserializeObject<ServiceStatusFile>(json, Settings);

        /// <summary>Writes the file atomically (temp file 0600 in the same directory, then rename over).</summary>
        public static void WriteAtomically(string path, string json)
        {
            var temp = path + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var s = new FileStream(temp, options))
            using (var w = new StreamWriter(s))
                w.Write(json);
            File.Move(temp, path, overwrite: true);
        }

        /// <summary>
        /// The services of other processes in <paramref name="directory"/>. A file whose process is gone, or whose
        /// pid now belongs to another process, is stale (a killed service): it is skipped and removed. Unreadable
        /// files go to <paramref name="problems"/>, never stopping the listing.
        /// </summary>
        public static List<ServiceStatusFile> ReadOthers(string directory, List<string> problems)
        {
            var found = new List<ServiceStatusFile>();
            if (!Directory.Exists(directory)) return found;
            try { RuntimeDirectory.Check(directory); }
            catch (Exception e) { problems.Add(e.Message); return found; }
            foreach (var path in Directory.EnumerateFiles(directory, "*.json").OrderBy(p => p, StringComparer.Ordinal))
            {
                var name = System.IO.Path.GetFileNameWithoutExtension(path);
                var dash = name.IndexOf('-');
                if (dash <= 0 || !int.TryParse(name.Substring(0, dash), out var pid)) continue;
                ServiceStatusFile status;
                try { status = FromJson(File.ReadAllText(path)); }
                catch (FileNotFoundException) { continue; } // removed by a clean stop as we listed
                catch (Exception e) { problems.Add($"Cannot read status file '{path}': {e.Message}"); continue; }
                if (status == null || status.ProcessId != pid) { problems.Add($"Status file '{path}' does not describe process {pid}."); continue; }
                if (!ProcessIdentity.IsAlive(status.ProcessId, status.ProcessStartMark))
                {
                    RemoveStale(path); // also a file of an earlier process whose pid we now have
                    continue;
                }
                if (status.ProcessId == ProcessIdentity.CurrentId) continue; // our own services: the in-process registry is exact
                found.Add(status);
            }
            return found;
        }

        /// <summary>Reads one service's file; null when there is none or its process is gone.</summary>
        public static ServiceStatusFile ReadLive(string directory, int processId, int watchId)
        {
            var path = System.IO.Path.Combine(directory, RuntimeDirectory.StatusFileName(processId, watchId));
            if (!File.Exists(path)) return null;
            RuntimeDirectory.Check(directory);
            ServiceStatusFile status;
            try { status = FromJson(File.ReadAllText(path)); }
            catch (FileNotFoundException) { return null; }
            if (status == null || status.ProcessId != processId || status.WatchId != watchId) return null;
            if (ProcessIdentity.IsAlive(status.ProcessId, status.ProcessStartMark)) return status;
            RemoveStale(path);
            return null;
        }

        private static void RemoveStale(string path)
        {
            // Best effort: another reader may have removed it already, and a leftover costs only a skip next time.
            try { File.Delete(path); } catch (Exception) { }
            try { File.Delete(path + ".tmp"); } catch (Exception) { }
        }
    }
}
