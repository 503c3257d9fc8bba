using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Transport;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Transport
{
    /// <summary>One entry failing (a disk error on the replica, say) is reported and the rest of the tree still syncs.</summary>
    public class EntryFailureTests : IDisposable
    {
        private readonly string _src = Directory.CreateTempSubdirectory("rtm-src-").FullName;
        private readonly string _dst = Directory.CreateTempSubdirectory("rtm-dst-").FullName;
        public void Dispose() { Directory.Delete(_src, true); Directory.Delete(_dst, true); }

        /// <summary>A real local replica that refuses one name, like a replica file system would on EIO or ENOSPC.</summary>
        private sealed class RefusingReplica : IReplica
        {
            private readonly LocalReplica _inner;
            private readonly string _refused;
            public RefusingReplica(string root, string refused) { _inner = new LocalReplica("t", root); _refused = refused; }
            public string TargetName => _inner.TargetName;
            public string TransportName => _inner.TransportName;
            public bool CanSetOwner => _inner.CanSetOwner;
            public void Open(CancellationToken c) => _inner.Open(c);
            public FileMeta Stat(string p) => _inner.Stat(p);
            public IEnumerable<FileMeta> Walk(string d) => _inner.Walk(d);
            public void CreateDirectory(string p, FileMeta m) => _inner.CreateDirectory(p, m);
            public long UploadFile(string local, FileMeta m, CancellationToken c) =>
                m.RelativePath == _refused ? throw new IOException("Input/output error") : _inner.UploadFile(local, m, c);
            public bool ContentEquals(string l, string p, CancellationToken c) => _inner.ContentEquals(l, p, c);
            public void ApplyMetadata(FileMeta m) => _inner.ApplyMetadata(m);
            public void CreateSymlink(FileMeta m) => _inner.CreateSymlink(m);
            public void Delete(string p, bool d) => _inner.Delete(p, d);
            public void Rename(string f, string t) => _inner.Rename(f, t);
            public void Dispose() => _inner.Dispose();
        }

        [Fact]
        public void Failure_of_one_file_is_reported_and_the_others_arrive()
        {
            foreach (var n in new[] { "a", "b", "c" }) File.WriteAllText(Path.Combine(_src, n), n);
            var errors = new List<string>();
            var results = new List<SyncResult>();
            using var replica = new RefusingReplica(_dst, "b");
            replica.Open(default);
            TreeSynchronizer.Sync(_src, "", replica, new SyncOptions { OnResult = results.Add, OnError = (p, e) => errors.Add($"{p}: {e.Message}") });
            Assert.Equal(new[] { "b: Input/output error" }, errors);
            Assert.Equal(new[] { "a", "c" }, results.Select(r => r.RelativePath).OrderBy(x => x));
            Assert.True(File.Exists(Path.Combine(_dst, "c")));
        }
    }
}
