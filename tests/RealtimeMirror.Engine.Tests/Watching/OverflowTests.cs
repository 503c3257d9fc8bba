using System;
using System.IO;
using System.Reflection;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Watching;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Watching
{
    /// <summary>
    /// What a user sees when the OS drops events, with the portable backend: its FileSystemWatcher raises the very
    /// error .NET raises for IN_Q_OVERFLOW. (InotifyWatcherTests overflow the real kernel queue.)
    /// </summary>
    public class OverflowTests : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "rtm-overflow-" + Guid.NewGuid().ToString("N").Substring(0, 8));

        public OverflowTests() => Directory.CreateDirectory(_root);
        public void Dispose() => Directory.Delete(_root, true);

        [Fact]
        public void A_dropped_event_buffer_becomes_a_Rescan_of_the_root_and_is_counted()
        {
            using (var watch = new MirrorWatch(1, new WatchOptions { Roots = new[] { _root }, Backend = WatchBackend.Portable }))
            {
                watch.Start();
                File.WriteAllText(Path.Combine(_root, "before-overflow.txt"), "x");
                RaiseOsError(watch, new InternalBufferOverflowException());

                MirrorEvent rescan = null;
                var deadline = DateTime.UtcNow.AddSeconds(5);
                while (rescan == null && DateTime.UtcNow < deadline && watch.TryTake(out var e, 200, CancellationToken.None))
                    if (e.ChangeType == ChangeType.Rescan) rescan = e;

                Assert.NotNull(rescan);
                Assert.Equal("", rescan.RelativePath);
                Assert.Equal(Path.GetFullPath(_root), rescan.WatchRoot);
                Assert.Equal(1, watch.Overflows);
                Assert.Contains("overflow", watch.LastError);
            }
        }

        [Fact]
        public void A_failed_watcher_is_restarted_with_a_Rescan_and_keeps_reporting()
        {
            using (var watch = new MirrorWatch(1, new WatchOptions { Roots = new[] { _root }, Backend = WatchBackend.Portable }))
            {
                watch.Start();
                RaiseOsError(watch, new IOException("inotify went away"));
                Assert.True(WaitFor(watch, e => e.ChangeType == ChangeType.Rescan));
                // The restart waits a moment before it watches again (what lands meanwhile is covered by its Rescan);
                // from then on, new files are reported as before.
                bool reported = false;
                for (int i = 0; i < 20 && !reported; i++)
                {
                    File.WriteAllText(Path.Combine(_root, $"after-restart-{i}.txt"), "x");
                    reported = WaitFor(watch, e => e.ChangeType == ChangeType.Created && e.RelativePath.StartsWith("after-restart-"), seconds: 0.3);
                }
                Assert.True(reported);
                Assert.Equal(0, watch.Overflows);
            }
        }

        private static bool WaitFor(MirrorWatch watch, Func<MirrorEvent, bool> wanted, double seconds = 5)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (DateTime.UtcNow < deadline)
                if (watch.TryTake(out var e, 200, CancellationToken.None) && wanted(e)) return true;
            return false;
        }

        private static void RaiseOsError(MirrorWatch watch, Exception error)
        {
            var roots = (System.Collections.IList)typeof(MirrorWatch).GetField("_roots", BindingFlags.NonPublic | BindingFlags.Instance).GetValue(watch);
            var treeWatcher = roots[0].GetType().GetField("Item1").GetValue(roots[0]);
            var fsw = (FileSystemWatcher)treeWatcher.GetType().GetField("_fsw", BindingFlags.NonPublic | BindingFlags.Instance).GetValue(treeWatcher);
            typeof(FileSystemWatcher).GetMethod("OnError", BindingFlags.NonPublic | BindingFlags.Instance).Invoke(fsw, new object[] { new ErrorEventArgs(error) });
        }
    }
}
