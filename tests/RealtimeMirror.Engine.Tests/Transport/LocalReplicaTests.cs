using System;
using System.IO;
using System.Linq;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Transport;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Transport
{
    public class LocalReplicaTests : IDisposable
    {
        private readonly string _src = Directory.CreateTempSubdirectory("rtm-src-").FullName;
        private readonly string _dst = Directory.CreateTempSubdirectory("rtm-dst-").FullName;
        public void Dispose() { Directory.Delete(_src, true); Directory.Delete(_dst, true); }

        private System.Collections.Generic.List<SyncResult> SyncAll(bool delete = false)
        {
            var results = new System.Collections.Generic.List<SyncResult>();
            using var replica = new LocalReplica("t", _dst);
            replica.Open(default);
            TreeSynchronizer.Sync(_src, "", replica, new SyncOptions { Delete = delete, OnResult = results.Add, OnError = (p, e) => throw e });
            return results;
        }

        [Fact]
        public void Copies_content_mode_mtime_and_links_then_touch_is_metadata_only()
        {
            Directory.CreateDirectory(Path.Combine(_src, "d"));
            File.WriteAllText(Path.Combine(_src, "d", "f"), "hello");
            File.SetUnixFileMode(Path.Combine(_src, "d", "f"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.SetLastWriteTimeUtc(Path.Combine(_src, "d", "f"), new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));
            File.CreateSymbolicLink(Path.Combine(_src, "l"), "d/f");

            var first = SyncAll();
            Assert.Contains(first, r => r.RelativePath == "d/f" && r.Action == SyncAction.Copied && r.Bytes == 5);
            Assert.Equal("d/f", new FileInfo(Path.Combine(_dst, "l")).LinkTarget);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dst, "d", "f")));
            Assert.Equal(new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(_dst, "d", "f")));
            // Whole seconds: what SFTP and rsync protocol 27 carry, so all transports agree.
            Assert.Equal(LocalFileSystem.ToUnix(Directory.GetLastWriteTimeUtc(Path.Combine(_src, "d"))), LocalFileSystem.ToUnix(Directory.GetLastWriteTimeUtc(Path.Combine(_dst, "d"))));

            Assert.Empty(SyncAll());
            File.SetLastWriteTimeUtc(Path.Combine(_src, "d", "f"), DateTime.UtcNow);
            var touched = SyncAll().Single();
            Assert.Equal(SyncAction.MetadataOnly, touched.Action);
            Assert.Equal(0, touched.Bytes);
        }

        [Fact]
        public void No_temp_files_are_left_behind()
        {
            for (int i = 0; i < 20; i++) File.WriteAllText(Path.Combine(_src, $"f{i}"), new string('x', i * 100));
            SyncAll();
            Assert.Empty(Directory.GetFiles(_dst, ".*rtm-*"));
            Assert.Equal(20, Directory.GetFiles(_dst).Length);
        }

        [Fact]
        public void Events_rename_on_the_replica_instead_of_resending()
        {
            File.WriteAllText(Path.Combine(_src, "a"), "data");
            SyncAll();
            var inode = Posix.TryLStat(Path.Combine(_dst, "a"), out var before) ? before.Inode : 0;
            File.Move(Path.Combine(_src, "a"), Path.Combine(_src, "b"));
            var results = new System.Collections.Generic.List<SyncResult>();
            using var replica = new LocalReplica("t", _dst);
            replica.Open(default);
            new EventSynchronizer(replica).Apply(new MirrorEvent(_src, "b", ChangeType.Renamed, false, 4, DateTime.UtcNow, "a"),
                new SyncOptions { OnResult = results.Add });
            Assert.Equal(SyncAction.Renamed, results.Single().Action);
            Assert.True(Posix.TryLStat(Path.Combine(_dst, "b"), out var after));
            Assert.Equal(inode, after.Inode); // the same file, moved: no bytes sent
            Assert.False(File.Exists(Path.Combine(_dst, "a")));
        }
    }
}
