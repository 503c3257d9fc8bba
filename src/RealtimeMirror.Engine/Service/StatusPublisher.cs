using System;
using System.IO;
using System.Threading;

namespace RealtimeMirror.Engine.Service
{
    /// <summary>
    /// Keeps a service's status file current on its own thread: every second while work is queued or in flight or
    /// something changed, every 30 s when idle (an idle tick only compares the snapshot with the last one written, no
    /// I/O). The file goes on a clean stop (and at process exit); a killed service leaves it, and readers drop it
    /// because its pid is dead or belongs to a newer process. Its own failures (directory gone, disk full) are
    /// reported once per distinct message and retried on the next tick; they never stop the service.
    /// </summary>
    internal sealed class StatusPublisher : IDisposable
    {
        public static readonly TimeSpan BusyInterval = TimeSpan.FromSeconds(1);
        public static readonly TimeSpan IdleInterval = TimeSpan.FromSeconds(30);

        private readonly string _directory;
        private readonly Func<ServiceStatusFile> _capture;
        private readonly Action<Exception> _onError;
        private readonly ManualResetEventSlim _stop = new ManualResetEventSlim(false);
        private readonly object _writeLock = new object();
        private Thread _thread;
        private string _lastWritten;
        private DateTime _lastWriteTime;
        private string _lastProblem;
        private bool _stopped;

        public StatusPublisher(string directory, Func<ServiceStatusFile> capture, Action<Exception> onError)
        {
            _directory = directory;
            _capture = capture;
            _onError = onError ?? (_ => { });
        }

        /// <summary>The file, known after the first capture.</summary>
        public string FilePath { get; private set; }
        public long Writes { get; private set; }

        public void Start()
        {
            AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
            _thread = new Thread(Run) { IsBackground = true, Name = "RealtimeMirror status" };
            _thread.Start();
        }

        private void Run()
        {
            do
            {
                try { Tick(DateTime.UtcNow); }
                catch (Exception e) { Report(e); }
            }
            while (!_stop.Wait(BusyInterval));
        }

        /// <summary>Captures the status and writes it if busy, changed or due; true when it wrote.</summary>
        internal bool Tick(DateTime now)
        {
            var status = _capture();
            status.Updated = null;
            var fingerprint = status.ToJson();
            bool due = status.IsBusy || fingerprint != _lastWritten || now - _lastWriteTime >= IdleInterval;
            if (!due) return false;
            status.Updated = now;
            lock (_writeLock)
            {
                if (_stopped) return false;
                if (FilePath == null) FilePath = Path.Combine(RuntimeDirectory.Ensure(_directory), status.FileName);
                else if (!Directory.Exists(_directory)) RuntimeDirectory.Ensure(_directory); // removed under us (tmpfs cleaned): make it again
                ServiceStatusFile.WriteAtomically(FilePath, status.ToJson());
            }
            _lastWritten = fingerprint;
            _lastWriteTime = now;
            Writes++;
            _lastProblem = null; // recovered: a new failure is worth reporting again
            return true;
        }

        private void Report(Exception e)
        {
            if (e.Message == _lastProblem) return; // once per distinct problem, not once a second
            _lastProblem = e.Message;
            try { _onError(new IOException($"Cannot publish the service status in '{_directory}': {e.Message}", e)); }
            catch (Exception) { /* a reporter must not kill the publisher */ }
        }

        private void OnProcessExit(object sender, EventArgs e) => Stop();

        /// <summary>Stops publishing and removes the file: a clean stop leaves nothing for readers to clean up.</summary>
        public void Stop()
        {
            _stop.Set();
            if (_thread != null && _thread != Thread.CurrentThread) _thread.Join(TimeSpan.FromSeconds(5));
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            lock (_writeLock)
            {
                if (_stopped) return;
                _stopped = true;
                if (FilePath == null) return;
                try { File.Delete(FilePath); File.Delete(FilePath + ".tmp"); }
                catch (Exception e) { Report(e); }
            }
        }

        public void Dispose() => Stop();
    }
}
