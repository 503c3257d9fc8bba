using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Renci.SshNet.Common;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// Moves file bytes over an open SFTP handle. Writes are pipelined (a window of requests in flight, one round
    /// trip per window rather than per chunk) and the token is checked before every chunk and while waiting, so
    /// Ctrl+C stops an upload of any size within moments; the caller then closes the handle and removes the temp.
    /// </summary>
    internal static class SftpFileTransfer
    {
        private const int Window = 32;
        private const int ReadAhead = 8;
        private const uint ReadChunk = 64 * 1024;

        /// <summary>Copies <paramref name="input"/> to offset 0.. of the remote handle; returns bytes sent.</summary>
        public static long Write(RawSftpRequests raw, byte[] handle, Stream input, TimeSpan timeout, CancellationToken cancel)
        {
            int chunk = Math.Max(4096, raw.WriteLength(handle));
            // A buffer is reused only after the write that used it has completed: slot k % Window is refilled after
            // dequeuing the oldest request, which is exactly the one that used that slot.
            var ring = new byte[Window][];
            var inflight = new Queue<Task>();
            long sent = 0;
            try
            {
                for (int k = 0; ; k++)
                {
                    cancel.ThrowIfCancellationRequested();
                    if (inflight.Count == Window) Await(raw, inflight.Dequeue(), timeout, cancel);
                    var buf = ring[k % Window] ??= new byte[chunk];
                    int n = ReadFull(input, buf);
                    if (n == 0) break;
                    inflight.Enqueue(raw.WriteAsync(handle, (ulong)sent, buf, n, cancel));
                    sent += n;
                    if (n < chunk) break;
                }
                while (inflight.Count > 0) Await(raw, inflight.Dequeue(), timeout, cancel);
                return sent;
            }
            finally { Observe(inflight); }
        }

        /// <summary>
        /// True when the remote handle's bytes equal the rest of <paramref name="local"/>. Reads run ahead a few requests
        /// (SSH.NET's session is thread-safe; its async read returns an internal type), so a long link is not one round
        /// trip per chunk; a short read that is not the end restarts the run-ahead at the right offset.
        /// </summary>
        public static bool Equal(RawSftpRequests raw, byte[] handle, Stream local, TimeSpan timeout, CancellationToken cancel)
        {
            var mine = new byte[ReadChunk];
            var pending = new Queue<Task<byte[]>>();
            ulong next = 0, offset = 0;
            try
            {
                while (true)
                {
                    while (pending.Count < ReadAhead)
                    {
                        ulong at = next;
                        pending.Enqueue(Task.Run(() => raw.Read(handle, at, ReadChunk)));
                        next += ReadChunk;
                    }
                    var theirs = Await(raw, pending.Dequeue(), timeout, cancel);
                    if (theirs.Length == 0) return ReadFull(local, mine, 1) == 0;
                    if (ReadFull(local, mine, theirs.Length) != theirs.Length) return false;
                    if (!theirs.AsSpan().SequenceEqual(mine.AsSpan(0, theirs.Length))) return false;
                    offset += (ulong)theirs.Length;
                    if (theirs.Length < ReadChunk)
                    {
                        while (pending.Count > 0) Await(raw, pending.Dequeue(), timeout, cancel);
                        next = offset;
                    }
                }
            }
            finally { Observe(pending); }
        }

        private static void Await(RawSftpRequests raw, Task task, TimeSpan timeout, CancellationToken cancel)
        {
            try
            {
                if (!task.Wait((int)timeout.TotalMilliseconds, cancel))
                {
                    raw.TimedOut();
                    throw new SshOperationTimeoutException("A request to the replica timed out.");
                }
            }
            catch (AggregateException e) when (e.InnerException != null)
            {
                if (e.InnerException is SshOperationTimeoutException) raw.TimedOut();
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            }
        }

        private static T Await<T>(RawSftpRequests raw, Task<T> task, TimeSpan timeout, CancellationToken cancel)
        {
            Await(raw, (Task)task, timeout, cancel);
            return task.Result;
        }

        /// <summary>Requests abandoned by a cancel or failure may still fault later; observe them so that is not reported.</summary>
        private static void Observe(IEnumerable<Task> tasks)
        {
            foreach (var t in tasks) t.ContinueWith(x => _ = x.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }

        private static int ReadFull(Stream s, byte[] buf, int count = -1)
        {
            if (count < 0) count = buf.Length;
            int total = 0;
            while (total < count)
            {
                int n = s.Read(buf, total, count - total);
                if (n == 0) break;
                total += n;
            }
            return total;
        }
    }
}
