using System;
using System.IO;
using System.Text;
using System.Threading;

namespace RealtimeMirror.Engine.Service.Logging
{
    /// <summary>
    /// Appends one line per record to a file and rotates by size: past <see cref="MaxBytes"/> the file becomes FILE.1,
    /// FILE.1 becomes FILE.2 ... and FILE.5 is dropped, so a service running for months holds at most six files.
    /// Every line is flushed (a killed service keeps all it logged). One lock makes it thread-safe; an I/O error is
    /// counted and the file reopened on the next record (after a disk was full, or someone moved the file away),
    /// never thrown into the worker that logged.
    /// </summary>
    public sealed class FileLog : IMirrorLog
    {
        public const long DefaultMaxBytes = 10L * 1024 * 1024;
        public const int Keep = 5;

        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);
        private readonly object _gate = new object();
        private FileStream _file;
        private long _size;
        private bool _disposed;
        private long _failures;

        public FileLog(string path, long maxBytes = DefaultMaxBytes)
        {
            Path = System.IO.Path.GetFullPath(path);
            MaxBytes = Math.Max(1, maxBytes);
            // Fail early, on the caller's thread, when the log cannot be written at all (a typo in -LogPath).
            lock (_gate) Open();
        }

        public string Path { get; }
        public long MaxBytes { get; }
        /// <summary>Records that could not be written.</summary>
        public long Failures => Interlocked.Read(ref _failures);

        private void Open()
        {
            var dir = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            _file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 4096);
            _size = _file.Length;
        }

        public void Write(LogRecord record)
        {
            byte[] line;
            try { line = Utf8.GetBytes(LogLine.Format(record) + "\n"); }
            catch (Exception) { Interlocked.Increment(ref _failures); return; }
            lock (_gate)
            {
                if (_disposed) return;
                try
                {
                    if (_file == null) Open();
                    if (_size > 0 && _size + line.Length > MaxBytes) Rotate();
                    _file.Write(line, 0, line.Length);
                    _file.Flush();
                    _size += line.Length;
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref _failures);
                    try { _file?.Dispose(); } catch (Exception) { }
                    _file = null; // reopened on the next record
                }
            }
        }

        /// <summary>FILE.4 → FILE.5 ... FILE → FILE.1, then a fresh FILE. Called under the lock.</summary>
        private void Rotate()
        {
            _file.Dispose();
            _file = null;
            for (int i = Keep - 1; i >= 1; i--)
            {
                var from = $"{Path}.{i}";
                if (File.Exists(from)) File.Move(from, $"{Path}.{i + 1}", overwrite: true);
            }
            File.Move(Path, Path + ".1", overwrite: true);
            Open();
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                try { _file?.Dispose(); } catch (Exception) { }
                _file = null;
            }
        }
    }
}
