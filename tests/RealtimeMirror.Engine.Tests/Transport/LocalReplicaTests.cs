using System;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Tests.Platform;
using RealtimeMirror.Engine.Transport;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Transport
{
    public class LocalReplicaTests : IDisposable
    {
        private readonly string _base = Directory.CreateTempSubdirectory("rtm-lr-").FullName;
        private readonly string _src;
        private readonly string _dst;
        private readonly DirectoryHandle _source;
        private readonly LocalReplica _replica;

        public LocalReplicaTests()
        {
            _src = Path.Combine(_base, "src");
            _dst = Path.Combine(_base, "dst", "nested"); // Open creates it with its parents
            Directory.CreateDirectory(_src);
            _source = DirectoryHandle.Open(_src);
            _replica = new LocalReplica("t", _dst);
            _replica.Open(default);
        }

        public void Dispose()
        {
            _replica.Dispose();
            _source.Dispose();
            using (var b = DirectoryHandle.Open(_base))
                foreach (var e in b.List("")) b.Delete(e.RelativePath);
            Directory.Delete(_base, true);
        }

        private string[] ReplicaTemps() =>
            _replica.List("").Where(m => DirectoryHandle.IsTempName(RealtimeMirror.Engine.Paths.RelativePath.Name(m.RelativePath)))
                .Select(m => m.RelativePath).ToArray();

        [Fact]
        public void Upload_copies_content_mode_and_nanosecond_mtime_and_leaves_no_temp()
        {
            var f = Path.Combine(_src, "f");
            File.WriteAllText(f, "hello");
            File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            using (var h = DirectoryHandle.Open(_src))
                h.SetMetadata("f", new FileMeta("f", EntryKind.File, 0, 1_577_934_245, 0x180, -1, -1, null) { MTimeNanos = 987_654_321 }, false);

            Assert.Equal(5, _replica.UploadFile(_source, "f", default));
            Assert.Equal("hello", File.ReadAllText(Path.Combine(_dst, "f")));
            var st = _replica.Stat("f");
            Assert.Equal(0x180, st.Mode);
            Assert.Equal(1_577_934_245, st.MTime);
            Assert.Equal(987_654_321, st.MTimeNanos);
            Assert.Empty(ReplicaTemps());
            Assert.True(_replica.ContentEquals(_source, "f", default));
            File.WriteAllText(f, "hellO");
            Assert.False(_replica.ContentEquals(_source, "f", default));
        }

        [Fact]
        public void Upload_replaces_an_existing_file_atomically()
        {
            File.WriteAllText(Path.Combine(_src, "f"), "new content");
            File.WriteAllText(Path.Combine(_dst, "f"), "old");
            _replica.UploadFile(_source, "f", default);
            Assert.Equal("new content", File.ReadAllText(Path.Combine(_dst, "f")));
            Assert.Single(_replica.List(""));
        }

        [Fact]
        public void A_255_byte_name_uploads_through_a_temp_name()
        {
            var name = new string('\u00E9', 127) + "a"; // 255 bytes
            File.WriteAllText(Path.Combine(_src, name), "long");
            _replica.UploadFile(_source, name, default);
            Assert.Equal("long", File.ReadAllText(Path.Combine(_dst, name)));
            Assert.Empty(ReplicaTemps());
        }

        [Fact]
        public void Non_UTF8_names_upload_to_the_same_bytes()
        {
            Raw.WriteFile(_src, "caf\uDCE9", new byte[] { 1 });
            Raw.WriteFile(_src, "caf\uDCFF", new byte[] { 2, 2 });
            _replica.UploadFile(_source, "caf\uDCE9", default);
            _replica.UploadFile(_source, "caf\uDCFF", default);
            var listed = _replica.List("");
            Assert.Equal(2, listed.Count);
            Assert.Equal(1, listed.Single(m => m.RelativePath == "caf\uDCE9").Size);
            Assert.Equal(2, listed.Single(m => m.RelativePath == "caf\uDCFF").Size);
            Assert.True(Raw.Exists(_dst + "/caf\uDCE9", out _));
        }

        [Fact]
        public void Uploading_a_fifo_or_a_missing_file_fails_cleanly_without_a_temp()
        {
            Raw.Mkfifo(Path.Combine(_src, "p"));
            Assert.Throws<NotRegularFileException>(() => _replica.UploadFile(_source, "p", default));
            Assert.Throws<FileNotFoundException>(() => _replica.UploadFile(_source, "gone", default));
            Assert.Empty(_replica.List(""));
        }

        [Fact]
        public void A_cancelled_upload_removes_its_temp()
        {
            File.WriteAllBytes(Path.Combine(_src, "big"), new byte[1 << 20]);
            using var cts = new CancellationTokenSource();
            cts.Cancel();
            Assert.ThrowsAny<OperationCanceledException>(() => _replica.UploadFile(_source, "big", cts.Token));
            Assert.Empty(_replica.List(""));
        }

        [Fact]
        public void Directories_symlinks_and_metadata()
        {
            _replica.CreateDirectory("d", new FileMeta("d", EntryKind.Directory, 0, 1_500_000_000, 0x1E8 /*0750*/, -1, -1, null));
            var d = _replica.Stat("d");
            Assert.Equal(EntryKind.Directory, d.Kind);
            Assert.Equal(0x1E8, d.Mode);
            Assert.Equal(1_500_000_000, d.MTime);

            _replica.CreateSymlink(new FileMeta("d/l", EntryKind.Symlink, 3, 1_400_000_000, 0x1FF, -1, -1, "../x"));
            Assert.Equal("../x", new FileInfo(Path.Combine(_dst, "d", "l")).LinkTarget);
            Assert.Equal(1_400_000_000, _replica.Stat("d/l").MTime);
            // Replacing a link goes through a temp name too.
            _replica.CreateSymlink(new FileMeta("d/l", EntryKind.Symlink, 1, 1_400_000_000, 0x1FF, -1, -1, "y"));
            Assert.Equal("y", _replica.Stat("d/l").LinkTarget);
            Assert.Single(_replica.List("d"));

            _replica.ApplyMetadata(new FileMeta("d", EntryKind.Directory, 0, 1_300_000_000, 0x1ED, -1, -1, null));
            Assert.Equal(0x1ED, _replica.Stat("d").Mode);
            Assert.Equal(1_300_000_000, _replica.Stat("d").MTime);
        }

        [Fact]
        public void Rename_moves_the_same_inode_and_refuses_to_replace_a_directory()
        {
            File.WriteAllText(Path.Combine(_src, "a"), "data");
            _replica.UploadFile(_source, "a", default);
            var before = _replica.Stat("a").Inode;
            _replica.Rename("a", "b");
            Assert.Equal(before, _replica.Stat("b").Inode); // moved, not re-sent
            Assert.Null(_replica.Stat("a"));

            _replica.CreateDirectory("dir", null);
            Assert.Throws<IOException>(() => _replica.Rename("b", "dir"));
            Assert.NotNull(_replica.Stat("b"));
        }

        [Fact]
        public void Delete_removes_trees_but_never_follows_a_link_out()
        {
            var outside = Path.Combine(_base, "outside");
            Directory.CreateDirectory(outside);
            File.WriteAllText(Path.Combine(outside, "keep"), "k");
            _replica.CreateDirectory("t", null);
            _replica.CreateDirectory("t/u", null);
            File.WriteAllText(Path.Combine(_dst, "t", "u", "f"), "x");
            File.CreateSymbolicLink(Path.Combine(_dst, "t", "out"), outside);
            _replica.Delete("t");
            Assert.Null(_replica.Stat("t"));
            Assert.True(File.Exists(Path.Combine(outside, "keep")));
            _replica.Delete("t");
            Assert.Throws<InvalidOperationException>(() => _replica.Delete(""));
        }

        [Fact]
        public void Writes_through_a_replica_directory_swapped_for_a_link_fail_and_change_nothing_outside()
        {
            var outside = Path.Combine(_base, "outside");
            Directory.CreateDirectory(outside);
            File.WriteAllText(Path.Combine(outside, "f"), "keep");
            File.SetUnixFileMode(outside, (UnixFileMode)0x1ED);
            Directory.CreateDirectory(Path.Combine(_src, "d"));
            File.WriteAllText(Path.Combine(_src, "d", "f"), "evil");
            File.CreateSymbolicLink(Path.Combine(_dst, "d"), outside); // the replica's "d" swapped for a link

            Assert.ThrowsAny<IOException>(() => _replica.UploadFile(_source, "d/f", default));
            Assert.ThrowsAny<IOException>(() => _replica.ApplyMetadata(new FileMeta("d/f", EntryKind.File, 0, 0, 0x1FF, -1, -1, null)));
            Assert.ThrowsAny<IOException>(() => _replica.Delete("d/f"));
            _replica.ApplyMetadata(new FileMeta("d", EntryKind.Directory, 0, 0, 0x1FF, -1, -1, null)); // lands on the link itself
            Assert.Equal("keep", File.ReadAllText(Path.Combine(outside, "f")));
            Assert.Single(Directory.GetFileSystemEntries(outside));
            Assert.Equal(0x1ED, Raw.Mode(outside));
        }

        [Fact]
        public void Specials_are_made_as_root()
        {
            Assert.Equal(Raw.IsRoot, _replica.CanCreateSpecial);
            Assert.Equal(1, _replica.TimeResolutionNanos);
            if (!Raw.IsRoot) return;
            _replica.CreateSpecial(new FileMeta("p", EntryKind.Fifo, 0, 1_200_000_000, 0x1B0 /*0660*/, 0, 0, null));
            var p = _replica.Stat("p");
            Assert.Equal(EntryKind.Fifo, p.Kind);
            Assert.Equal(0x1B0, p.Mode);
            Assert.Equal(1_200_000_000, p.MTime);
        }
    }
}
