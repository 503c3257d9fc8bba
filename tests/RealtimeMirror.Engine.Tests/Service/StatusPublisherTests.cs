using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Service;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Service
{
    /// <summary>The status file other processes read: whole or not at all, private, current, and gone after a clean stop.</summary>
    public sealed class StatusPublisherTests : IDisposable
    {
        private static readonly DateTime T0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        private readonly string _base = Path.Combine(Path.GetTempPath(), "rtm-status-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        private string Run => Path.Combine(_base, "run");

        public StatusPublisherTests() => Directory.CreateDirectory(_base);
        public void Dispose() => Directory.Delete(_base, true);

        private static ServiceStatusFile Sample(int queue = 0, int targets = 1) => new ServiceStatusFile
        {
            ProcessId = ProcessIdentity.CurrentId, ProcessStartMark = ProcessIdentity.CurrentStartMark, WatchId = 9,
            Paths = new List<string> { "/srv/data" }, Backend = "Inotify", State = "Running", Started = T0,
            Targets = Enumerable.Range(0, targets).Select(i => new TargetStatusRecord
            {
                Name = "backup" + i, State = "Idle", QueueLength = queue, BytesSent = 1234, FilesApplied = 5, VerifyCount = 2, LastVerify = T0,
                LastError = "disk full", LastErrorTime = T0.AddMinutes(-1),
            }).ToList(),
        };

        [Fact]
        public void Writes_the_whole_status_in_a_private_file_and_removes_it_on_stop()
        {
            var p = new StatusPublisher(Run, () => Sample(), _ => { });
            Assert.True(p.Tick(T0));
            var file = Path.Combine(Run, $"{ProcessIdentity.CurrentId}-9.json");
            Assert.Equal(file, p.FilePath);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Run));
            Assert.False(File.Exists(file + ".tmp"));

            var read = ServiceStatusFile.FromJson(File.ReadAllText(file));
            Assert.Equal(ProcessIdentity.CurrentId, read.ProcessId);
            Assert.Equal(ProcessIdentity.CurrentStartMark, read.ProcessStartMark);
            Assert.Equal(9, read.WatchId);
            Assert.Equal(new[] { "/srv/data" }, read.Paths);
            Assert.Equal(T0, read.Updated);
            var t = read.Targets.Single().ToTargetStatus();
            Assert.Equal("backup0", t.Target);
            Assert.Equal(TargetState.Idle, t.State);
            Assert.Equal(1234, t.BytesSent);
            Assert.Equal(2, t.VerifyCount);
            Assert.Equal(T0, t.LastVerifyUtc);
            Assert.Equal(T0.ToLocalTime(), t.LastVerify);
            Assert.Equal("disk full", t.LastError);

            p.Stop();
            Assert.False(File.Exists(file));
        }

        [Fact]
        public void A_reader_never_sees_a_partial_file()
        {
            int n = 0;
            var p = new StatusPublisher(Run, () => Sample(queue: n, targets: 1 + n % 50), _ => { });
            p.Tick(T0);
            var file = p.FilePath;
            var failures = new List<string>();
            var reader = new Thread(() =>
            {
                while (Volatile.Read(ref n) < 400)
                {
                    try
                    {
                        var s = ServiceStatusFile.FromJson(File.ReadAllText(file));
                        if (s == null || s.Targets.Count == 0) lock (failures) failures.Add("empty");
                    }
                    catch (Exception e) { lock (failures) failures.Add(e.Message); }
                }
            });
            reader.Start();
            for (int i = 1; i <= 400; i++) { Volatile.Write(ref n, i); Assert.True(p.Tick(T0.AddSeconds(i))); }
            reader.Join();
            Assert.Empty(failures);
            Assert.Single(Directory.GetFiles(Run));
        }

        [Fact]
        public void Idle_it_writes_every_30_seconds_busy_every_tick_and_at_once_when_something_changes()
        {
            var status = Sample();
            var p = new StatusPublisher(Run, () => status, _ => { });
            Assert.True(p.Tick(T0));
            Assert.False(p.Tick(T0.AddSeconds(1)));
            Assert.False(p.Tick(T0.AddSeconds(29)));
            Assert.True(p.Tick(T0.AddSeconds(30)));
            status = Sample();
            status.Targets[0].LastError = "a new error";
            Assert.True(p.Tick(T0.AddSeconds(31)));
            Assert.False(p.Tick(T0.AddSeconds(32)));
            status = Sample(queue: 3);
            Assert.True(p.Tick(T0.AddSeconds(33)));
            Assert.True(p.Tick(T0.AddSeconds(34)));
        }

        [Fact]
        public void A_failure_is_reported_once_and_publishing_recovers()
        {
            File.WriteAllText(Run, "a file where the directory should be");
            var errors = new List<Exception>();
            var p = new StatusPublisher(Run, () => Sample(queue: 1), e => { lock (errors) errors.Add(e); });
            p.Start();
            try
            {
                Thread.Sleep(2500); // two or three ticks, each failing the same way
                lock (errors) Assert.Single(errors);
                File.Delete(Run);
                var file = Path.Combine(Run, $"{ProcessIdentity.CurrentId}-9.json");
                var deadline = DateTime.UtcNow.AddSeconds(5);
                while (!File.Exists(file) && DateTime.UtcNow < deadline) Thread.Sleep(50);
                Assert.True(File.Exists(file));
            }
            finally { p.Stop(); }
        }

        [Fact]
        public void Readers_skip_and_remove_files_of_dead_or_recycled_pids_and_keep_live_ones()
        {
            Directory.CreateDirectory(Run, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var live = Process.Start("sleep", "30");
            using var dead = Process.Start("true");
            dead.WaitForExit();
            try
            {
                void Write(int pid, long mark, int id)
                {
                    var s = Sample(); s.ProcessId = pid; s.ProcessStartMark = mark; s.WatchId = id;
                    ServiceStatusFile.WriteAtomically(Path.Combine(Run, s.FileName), s.ToJson());
                }
                long liveMark = ProcessIdentity.StartMark(live.Id).Value;
                Write(live.Id, liveMark, 1);
                Write(live.Id, liveMark + 1, 2); // same pid, another start: a recycled pid
                Write(dead.Id, 42, 3);
                var problems = new List<string>();
                var found = ServiceStatusFile.ReadOthers(Run, problems);
                Assert.Empty(problems);
                Assert.Equal(1, found.Single().WatchId);
                Assert.Equal(new[] { $"{live.Id}-1.json" }, Directory.GetFiles(Run).Select(Path.GetFileName).ToArray());
                Assert.False(ProcessIdentity.Terminate(live.Id, liveMark + 1)); // never signals the wrong process
                Assert.False(live.WaitForExit(200));
            }
            finally { live.Kill(); }
        }

        [Fact]
        public void A_runtime_directory_others_can_write_to_or_a_symlink_is_refused()
        {
            var open = Path.Combine(_base, "open");
            Directory.CreateDirectory(open);
            File.SetUnixFileMode(open, (UnixFileMode)0x1FF); // 0777: anyone could plant a status file
            Assert.Throws<UnauthorizedAccessException>(() => RuntimeDirectory.Ensure(open));
            var readable = Path.Combine(_base, "readable");
            Directory.CreateDirectory(readable);
            File.SetUnixFileMode(readable, (UnixFileMode)0x1ED); // 0755, as systemd's RuntimeDirectory= makes it: the files stay 0600
            Assert.Equal(readable, RuntimeDirectory.Ensure(readable));
            var link = Path.Combine(_base, "link");
            Directory.CreateSymbolicLink(link, readable);
            Assert.Throws<IOException>(() => RuntimeDirectory.Ensure(link));
        }

        [Fact]
        public void A_file_left_by_an_earlier_process_with_our_pid_is_removed()
        {
            Directory.CreateDirectory(Run, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var s = Sample(); s.ProcessStartMark = ProcessIdentity.CurrentStartMark + 1;
            ServiceStatusFile.WriteAtomically(Path.Combine(Run, s.FileName), s.ToJson());
            Assert.Empty(ServiceStatusFile.ReadOthers(Run, new List<string>()));
            Assert.Empty(Directory.GetFiles(Run));
        }
    }
}
