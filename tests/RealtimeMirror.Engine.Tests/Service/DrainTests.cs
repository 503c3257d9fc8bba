using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Service.Logging;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Watching;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Service
{
    /// <summary>
    /// The shutdown drain against a real watch and a local replica: changes still inside a long settle window are sent
    /// by Drain, not lost; results are logged from the worker threads, verbose lines only when asked for.
    /// </summary>
    public class DrainTests : IDisposable
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "rtm-drain-" + Guid.NewGuid().ToString("N").Substring(0, 8));

        public void Dispose() { try { Directory.Delete(_dir, true); } catch (Exception) { } }

        private sealed class ListLog : IMirrorLog
        {
            public readonly ConcurrentQueue<LogRecord> Records = new ConcurrentQueue<LogRecord>();
            public bool Disposed;
            public void Write(LogRecord record) => Records.Enqueue(record);
            public void Dispose() => Disposed = true;
        }

        [Fact]
        public void Drain_sends_changes_still_settling_and_the_log_has_one_record_per_file()
        {
            var src = Directory.CreateDirectory(Path.Combine(_dir, "src")).FullName;
            var replica = Directory.CreateDirectory(Path.Combine(_dir, "replica")).FullName;
            var watch = WatchRegistry.Start(new WatchOptions { Roots = new[] { src }, Settle = TimeSpan.FromSeconds(30), MaxDelay = TimeSpan.FromSeconds(60) });
            var log = new ListLog();
            var verbose = new ConcurrentQueue<string>();
            var service = new MirrorService(watch, new[] { new MirrorTarget { Name = "local", Kind = TargetKind.Local, Path = replica } },
                new ServiceOptions { Roots = watch.Path, Log = log, OnVerbose = (t, line) => verbose.Enqueue(line) });
            try
            {
                service.Start();
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (!service.StartupDone && DateTime.UtcNow < deadline) Thread.Sleep(10);
                Assert.True(service.StartupDone);
                for (int i = 0; i < 50; i++) File.WriteAllText(Path.Combine(src, $"f{i}.txt"), $"content {i}");
                Thread.Sleep(10);
                Assert.True(service.Drain(TimeSpan.FromSeconds(20)));
                // Without the drain these would wait 30 s for the settle window.
                for (int i = 0; i < 50; i++) Assert.Equal($"content {i}", File.ReadAllText(Path.Combine(replica, $"f{i}.txt")));
                Assert.Matches(@"^local: Idle, queue 0, lag \d+\.\d s$", service.StatusLine());
            }
            finally
            {
                service.Stop();
                watch.Stop();
            }
            var copied = log.Records.Where(r => r.Action == "Copied").ToList();
            Assert.Equal(50, copied.Count);
            Assert.All(copied, r => { Assert.Equal("local", r.Target); Assert.Matches(@"^f\d+\.txt$", r.Path); Assert.Equal(MirrorLogLevel.Info, r.Level); });
            Assert.Contains(log.Records, r => r.Level == MirrorLogLevel.Debug && r.Message.StartsWith("Batch of ", StringComparison.Ordinal));
            Assert.Contains(verbose, l => l.StartsWith("Batch of ", StringComparison.Ordinal));
            Assert.True(log.Disposed); // the service closes its log once the workers are done
        }

        [Fact]
        public void Without_a_verbose_callback_no_trace_line_is_made()
        {
            var src = Directory.CreateDirectory(Path.Combine(_dir, "src2")).FullName;
            var replica = Directory.CreateDirectory(Path.Combine(_dir, "replica2")).FullName;
            var watch = WatchRegistry.Start(new WatchOptions { Roots = new[] { src } });
            var log = new ListLog();
            var service = new MirrorService(watch, new[] { new MirrorTarget { Name = "local", Kind = TargetKind.Local, Path = replica } },
                new ServiceOptions { Roots = watch.Path, Log = log, InitialSync = true });
            try
            {
                service.Start();
                File.WriteAllText(Path.Combine(src, "a.txt"), "a");
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (!File.Exists(Path.Combine(replica, "a.txt")) && DateTime.UtcNow < deadline) Thread.Sleep(10);
                Assert.True(service.Drain(TimeSpan.FromSeconds(10)));
            }
            finally
            {
                service.Stop();
                watch.Stop();
            }
            Assert.Contains(log.Records, r => r.Action == "Copied" && r.Path == "a.txt");
            Assert.DoesNotContain(log.Records, r => r.Level == MirrorLogLevel.Debug);
        }
    }
}
