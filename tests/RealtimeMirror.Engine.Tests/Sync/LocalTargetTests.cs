using System;
using System.IO;
using System.Linq;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Tests.Sync;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Sync
{
    /// <summary>What a user of a local target sees: content, metadata, links, no temp files, renames without copies.</summary>
    public class LocalTargetTests : IDisposable
    {
        private readonly MirrorFixture _m = new MirrorFixture();
        public void Dispose() => _m.Dispose();

        private System.Collections.Generic.List<SyncResult> SyncAll()
        {
            _m.Results.Clear();
            _m.SyncAll();
            Assert.Empty(_m.Errors);
            return _m.Results.ToList();
        }

        [Fact]
        public void Copies_content_mode_mtime_and_links_then_touch_is_metadata_only()
        {
            var src = _m.Source;
            var dst = _m.Replica;
            Directory.CreateDirectory(Path.Combine(src, "d"));
            File.WriteAllText(Path.Combine(src, "d", "f"), "hello");
            File.SetUnixFileMode(Path.Combine(src, "d", "f"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.SetLastWriteTimeUtc(Path.Combine(src, "d", "f"), new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234567));
            File.CreateSymbolicLink(Path.Combine(src, "l"), "d/f");

            var first = SyncAll();
            Assert.Contains(first, r => r.RelativePath == "d/f" && r.Action == SyncAction.Copied && r.Bytes == 5);
            Assert.Equal("d/f", new FileInfo(Path.Combine(dst, "l")).LinkTarget);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dst, "d", "f")));
            // Local targets keep nanoseconds.
            Assert.Equal(File.GetLastWriteTimeUtc(Path.Combine(src, "d", "f")), File.GetLastWriteTimeUtc(Path.Combine(dst, "d", "f")));
            Assert.Equal(Directory.GetLastWriteTimeUtc(Path.Combine(src, "d")), Directory.GetLastWriteTimeUtc(Path.Combine(dst, "d")));

            Assert.Empty(SyncAll());
            File.SetLastWriteTimeUtc(Path.Combine(src, "d", "f"), DateTime.UtcNow);
            var touched = SyncAll().Single();
            Assert.Equal(SyncAction.MetadataOnly, touched.Action);
            Assert.Equal(0, touched.Bytes);
            _m.AssertEqual();
        }

        [Fact]
        public void No_temp_files_are_left_behind()
        {
            for (int i = 0; i < 20; i++) File.WriteAllText(Path.Combine(_m.Source, $"f{i}"), new string('x', i * 100));
            SyncAll();
            Assert.Empty(Directory.GetFiles(_m.Replica, ".*rtm-*"));
            Assert.Equal(20, Directory.GetFiles(_m.Replica).Length);
        }

        [Fact]
        public void A_proven_rename_moves_the_replica_file_instead_of_resending()
        {
            File.WriteAllText(Path.Combine(_m.Source, "a"), "data");
            SyncAll();
            var inode = Posix.TryLStat(Path.Combine(_m.Replica, "a"), out var before) ? before.Inode : 0;
            File.Move(Path.Combine(_m.Source, "a"), Path.Combine(_m.Source, "b"));
            _m.Results.Clear();
            _m.Apply((ChangeType.Renamed, "b", "a", false));
            Assert.Contains(_m.Results, r => r.Action == SyncAction.Renamed && r.RelativePath == "b");
            Assert.DoesNotContain(_m.Results, r => r.Bytes > 0);
            Assert.True(Posix.TryLStat(Path.Combine(_m.Replica, "b"), out var after));
            Assert.Equal(inode, after.Inode); // the same file, moved: no bytes sent
            Assert.False(File.Exists(Path.Combine(_m.Replica, "a")));
            _m.AssertEqual();
        }
    }
}
