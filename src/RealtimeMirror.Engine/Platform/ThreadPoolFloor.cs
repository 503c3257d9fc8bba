using System.Threading;

namespace RealtimeMirror.Engine.Platform
{
    /// <summary>
    /// The engine waits synchronously on SSH.NET requests whose async paths complete through thread-pool
    /// continuations: a worker per target, the planner's pipelined lstat probes, an upload's window of writes. The pool
    /// starts with one thread per core and adds about one per half second while all are blocked, so on a 2-core host
    /// those completions queued behind the blocked waits: Ctrl+C during an SFTP upload took 0.4-1.7 s to return (4-9 ms
    /// with this floor), and any round trip could stall like that. Idle pool threads cost only their stacks.
    /// </summary>
    internal static class ThreadPoolFloor
    {
        private const int MinWorkerThreads = 32;

        /// <summary>Idempotent: it only ever raises the minimum.</summary>
        public static void Ensure()
        {
            ThreadPool.GetMinThreads(out var workers, out var io);
            if (workers < MinWorkerThreads) ThreadPool.SetMinThreads(MinWorkerThreads, io);
        }
    }
}
