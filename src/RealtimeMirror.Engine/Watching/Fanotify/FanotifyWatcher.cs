using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Platform.Native;

namespace RealtimeMirror.Engine.Watching.Fanotify
{
    /// <summary>
    /// The Linux backend for whole trees: one fanotify group per root, one filesystem mark per filesystem the tree
    /// spans, events filtered to the root in user space through the group's handle map (its reader thread and
    /// recovery are <see cref="KernelTreeWatcher{TSession, TTranslator}"/>'s).
    /// </summary>
    internal sealed class FanotifyWatcher : KernelTreeWatcher<FanotifyTree, FanotifyTranslator>
    {
        // Reused by every read (only the reader thread touches it).
        private readonly List<FanotifyEvent> _events = new List<FanotifyEvent>();

        // Tests only: the group is opened as on a kernel before 5.17 (moves come as a delete and a create).
        private readonly bool _asBeforeLinux517;

        public FanotifyWatcher(string root, GlobFilter exclude, ConcurrentQueue<RawChange> sink, Action<string> onFault, Action wake, bool asBeforeLinux517 = false)
            : base(root, exclude, sink, onFault, wake) => _asBeforeLinux517 = asBeforeLinux517;

        public override WatchBackend Backend => WatchBackend.Fanotify;
        protected override string KernelName => "fanotify";

        /// <summary>Test hook: an errno to fail marking a directory's filesystem with, 0 to mark it.</summary>
        internal Func<string, int> MarkFault;
        /// <summary>The group's descriptor (tests read its fdinfo: the marks the kernel holds).</summary>
        internal int GroupFd => Session?.Fd ?? -1;
        internal bool HasRename => Session?.HasRename ?? false;
        internal bool HasTarget => Session?.HasTarget ?? false;
        internal int MarkedFilesystems => Session?.MarkedFilesystems ?? 0;
        internal long Lookups => Session?.Lookups ?? 0;
        /// <summary>Test hook: the map loses a directory (and what is below it), as if its creation had been missed.</summary>
        internal void Forget(string dir)
        {
            var t = Session;
            lock (t) t.Unmap(dir);
        }

        protected override FanotifyTree NewSession() => FanotifyTree.Open(_root, _exclude, _onFault, MarkFault, _asBeforeLinux517);

        protected override string QueueLimitSysctl => "fs.fanotify.max_queued_events";
        // The group hears the whole filesystem: a large buffer takes many events per read.
        protected override int ReadBufferBytes => 256 * 1024;

        protected override FanotifyTranslator NewTranslator(FanotifyTree tree) => new FanotifyTranslator(tree, _exclude, _sink);

        protected override void Translate(FanotifyTranslator translator, byte[] buffer, int length, DateTime now)
        {
            _events.Clear();
            FanotifyEvent.Parse(buffer, length, _events, fd => LibC.close(fd));
            foreach (var e in _events) translator.Handle(e, now);
        }
    }
}
