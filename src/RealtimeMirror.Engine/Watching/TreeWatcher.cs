using System;
using System.Collections.Concurrent;
using System.IO;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>
    /// The portable backend: one recursive FileSystemWatcher (ReadDirectoryChangesW on Windows, FSEvents/kqueue on
    /// macOS; on Linux the InotifyWatcher is used unless asked for this one) over one root.
    /// Its callbacks only turn OS events into RawChanges on a queue: anything slow there would let the
    /// kernel buffer overflow. Lost events (overflow, or the watcher failing) become a Rescan of the root,
    /// and a dead watcher is recreated with backoff.
    /// </summary>
    internal sealed class TreeWatcher : ITreeWatcher
    {
        private readonly string _root;
        private readonly GlobFilter _exclude;
        private readonly ConcurrentQueue<RawChange> _sink;
        private readonly Action<string> _onFault;
        private readonly Action _wake;
        private FileSystemWatcher _fsw;
        private volatile bool _disposed;
        private TimeSpan _restartDelay = TimeSpan.FromMilliseconds(100);

        public TreeWatcher(string root, GlobFilter exclude, ConcurrentQueue<RawChange> sink, Action<string> onFault, Action wake)
        {
            _wake = wake;
            _root = Path.GetFullPath(root);
            _exclude = exclude ?? GlobFilter.None;
            _sink = sink;
            _onFault = onFault;
        }

        public string Root => _root;
        public WatchBackend Backend => WatchBackend.Portable;
        /// <summary>Set by the watch's root check while the root directory is gone.</summary>
        public bool RootMissing { get; set; }
        public long Overflows => System.Threading.Interlocked.Read(ref _overflows);
        private long _overflows;

        public void Start()
        {
            var fsw = new FileSystemWatcher(_root)
            {
                IncludeSubdirectories = true,
                InternalBufferSize = 64 * 1024,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite |
                               NotifyFilters.Size | NotifyFilters.Attributes | NotifyFilters.CreationTime | NotifyFilters.Security,
            };
            fsw.Created += (s, e) => Report(ChangeType.Created, e.FullPath, null);
            fsw.Changed += (s, e) => Report(ChangeType.Changed, e.FullPath, null);
            fsw.Deleted += (s, e) => Report(ChangeType.Deleted, e.FullPath, null);
            fsw.Renamed += (s, e) => Report(ChangeType.Renamed, e.FullPath, e.OldFullPath);
            fsw.Error += OnError;
            fsw.EnableRaisingEvents = true;
            _fsw = fsw;
        }

        private void Report(ChangeType kind, string fullPath, string oldFullPath)
        {
            var rel = RelativePath.FromFull(_root, fullPath);
            if (string.IsNullOrEmpty(rel)) return;
            var now = DateTime.UtcNow;
            bool? isDir = kind == ChangeType.Deleted ? (bool?)null : IsRealDirectory(fullPath);
            if (kind == ChangeType.Renamed)
            {
                var oldRel = RelativePath.FromFull(_root, oldFullPath);
                bool oldOut = oldRel == null || _exclude.IsExcluded(oldRel);
                bool newOut = _exclude.IsExcluded(rel, isDir);
                if (oldOut && newOut) return;
                if (oldOut) { Enqueue(new RawChange(ChangeType.Created, rel, isDir, now)); return; }   // e.g. editor's temp file saved over the real name
                if (newOut) { Enqueue(new RawChange(ChangeType.Deleted, oldRel, isDir, now)); return; }
                Enqueue(new RawChange(ChangeType.Renamed, rel, isDir, now, oldRel));
                return;
            }
            if (_exclude.IsExcluded(rel, isDir)) return;
            Enqueue(new RawChange(kind, rel, isDir, now));
        }

        private void Enqueue(RawChange c)
        {
            _sink.Enqueue(c);
            _wake?.Invoke();
        }

        private static bool IsRealDirectory(string fullPath)
        {
            try
            {
                var attrs = File.GetAttributes(fullPath);
                return (attrs & FileAttributes.Directory) != 0 && (attrs & FileAttributes.ReparsePoint) == 0;
            }
            catch (Exception) { return false; }
        }

        private void OnError(object sender, ErrorEventArgs e)
        {
            if (_disposed) return;
            var ex = e.GetException();
            Enqueue(new RawChange(ChangeType.Rescan, "", true, DateTime.UtcNow));
            if (ex is InternalBufferOverflowException)
            {
                System.Threading.Interlocked.Increment(ref _overflows);
                _onFault?.Invoke($"{_root}: the OS dropped events (buffer overflow); rescanning.");
                return;
            }
            _onFault?.Invoke($"{_root}: watch failed ({ex?.Message}); restarting it and rescanning.");
            RestartLater();
        }

        /// <summary>Watches the root again at once (it was removed and is back).</summary>
        public void Restart()
        {
            var old = _fsw;
            _fsw = null;
            try { old?.Dispose(); } catch (Exception) { }
            Start();
        }

        /// <summary>Recreates the watcher, backing off from 100 ms to 10 s while it keeps failing.</summary>
        private void RestartLater()
        {
            var old = _fsw;
            _fsw = null;
            try { old?.Dispose(); } catch (Exception) { }
            var delay = _restartDelay;
            _restartDelay = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(10).Ticks, delay.Ticks * 2));
            System.Threading.Tasks.Task.Delay(delay).ContinueWith(_ =>
            {
                if (_disposed) return;
                try
                {
                    Start();
                    _restartDelay = TimeSpan.FromMilliseconds(100);
                    Enqueue(new RawChange(ChangeType.Rescan, "", true, DateTime.UtcNow));
                }
                catch (Exception ex)
                {
                    _onFault?.Invoke($"{_root}: cannot restart the watch: {ex.Message}");
                    RestartLater();
                }
            });
        }

        public void Dispose()
        {
            _disposed = true;
            try { _fsw?.Dispose(); } catch (Exception) { }
        }
    }
}
