using System;
using System.IO;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Platform.Native;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Platform
{
    public class DirectoryHandleTests : IDisposable
    {
        private readonly string _base = Directory.CreateTempSubdirectory("rtm-dh-").FullName;
        private readonly string _root;
        private readonly string _outside;
        private readonly DirectoryHandle _h;

        public DirectoryHandleTests()
        {
            _root = Path.Combine(_base, "root");
            _outside = Path.Combine(_base, "outside");
            Directory.CreateDirectory(_root);
            Directory.CreateDirectory(_outside);
            File.WriteAllText(Path.Combine(_outside, "f"), "keep");
            File.SetUnixFileMode(_outside, (UnixFileMode)0x1ED);             // 0755
            File.SetUnixFileMode(Path.Combine(_outside, "f"), (UnixFileMode)0x1A4); // 0644
            _h = DirectoryHandle.Open(_root);
        }

        public void Dispose()
        {
            _h.Dispose();
            // Directory.Delete cannot remove names that are not UTF-8: clear the tree by descriptor first.
            using (var b = DirectoryHandle.Open(_base))
                foreach (var e in b.List("")) b.Delete(e.RelativePath);
            Directory.Delete(_base, true);
        }

        private void AssertOutsideUntouched()
        {
            Assert.Equal(0x1ED, Raw.Mode(_outside));
            Assert.Equal(0x1A4, Raw.Mode(Path.Combine(_outside, "f")));
            Assert.Equal(new[] { "f" }, Directory.GetFileSystemEntries(_outside).Select(Path.GetFileName).ToArray());
            Assert.Equal("keep", File.ReadAllText(Path.Combine(_outside, "f")));
        }

        private static FileMeta Meta(string rel, EntryKind kind, int mode, long uid = -1, long gid = -1, long mtime = 1_600_000_000, int nanos = 0) =>
            new FileMeta(rel, kind, 0, mtime, mode, uid, gid, null) { MTimeNanos = nanos };

        // --- a symlink swapped in for a replica directory -------------------------------------------------------

        [Fact]
        public void A_symlink_planted_as_a_middle_component_makes_every_operation_fail_and_nothing_outside_changes()
        {
            File.CreateSymbolicLink(Path.Combine(_root, "d"), _outside);
            File.WriteAllText(Path.Combine(_root, "x"), "x");

            var loop = Assert.Throws<PosixException>(() => _h.CreateTemp("d/new", out _));
            Assert.Equal(Errno.ELOOP, loop.Errno);
            Assert.Throws<PosixException>(() => _h.SetMetadata("d/f", Meta("d/f", EntryKind.File, 0x1FF), false));
            Assert.Throws<PosixException>(() => _h.Delete("d/f"));
            Assert.Throws<PosixException>(() => _h.Rename("x", "d/x"));
            Assert.Throws<PosixException>(() => _h.CreateDirectory("d/sub"));
            Assert.Throws<PosixException>(() => _h.CreateSymlink("/etc/passwd", "d/l"));
            Assert.Throws<PosixException>(() => _h.CreateHardLink("x", "d/hard"));
            Assert.Throws<PosixException>(() => _h.OpenRead("d/f", out _));
            Assert.Throws<PosixException>(() => _h.List("d"));
            Assert.Equal(Errno.ELOOP, Assert.Throws<PosixException>(() => _h.Stat("d/f")).Errno);
            AssertOutsideUntouched();
            Assert.True(File.Exists(Path.Combine(_root, "x")));
        }

        [Fact]
        public void Operations_on_the_planted_link_itself_act_on_the_link_not_its_target()
        {
            File.CreateSymbolicLink(Path.Combine(_root, "d"), _outside);
            var st = _h.Stat("d");
            Assert.Equal(EntryKind.Symlink, st.Kind);
            Assert.Equal(_outside, st.LinkTarget);

            // chmod to 0700 is not applied to a link (nor through it); the link's own time is set.
            Assert.False(_h.SetMetadata("d", Meta("d", EntryKind.Directory, 0x1C0, mtime: 1_500_000_000), false));
            Assert.Equal(1_500_000_000, _h.Stat("d").MTime);
            Assert.Throws<NotRegularFileException>(() => _h.OpenRead("d", out _));

            _h.Delete("d");
            Assert.False(Raw.Exists(Path.Combine(_root, "d"), out _));
            AssertOutsideUntouched();
        }

        [Fact]
        public void The_fallback_walk_refuses_a_planted_link_like_openat2()
        {
            File.CreateSymbolicLink(Path.Combine(_root, "d"), _outside);
            Directory.CreateDirectory(Path.Combine(_root, "real", "sub"));
            using var lease = GetRootFd(out int rootFd);
            Assert.Equal(-Errno.ELOOP, Beneath.Walk(rootFd, "d/f", Flags.O_RDONLY | Flags.O_NOFOLLOW | Flags.O_CLOEXEC, 0));
            Assert.Equal(-Errno.ELOOP, Beneath.Walk(rootFd, "d", Flags.O_RDONLY | Flags.O_DIRECTORY | Flags.O_NOFOLLOW | Flags.O_CLOEXEC, 0));
            int fd = Beneath.Walk(rootFd, "real/sub", Flags.O_RDONLY | Flags.O_DIRECTORY | Flags.O_NOFOLLOW | Flags.O_CLOEXEC, 0);
            Assert.True(fd >= 0);
            LibC.close(fd);
            Assert.Equal(-Errno.EINVAL, Beneath.Walk(rootFd, "real/../..", Flags.O_RDONLY | Flags.O_CLOEXEC, 0));
        }

        private IDisposable GetRootFd(out int fd)
        {
            int f = LibC.open(RealtimeMirror.Engine.Paths.PathEncoding.ToCString(_root), Flags.O_RDONLY | Flags.O_DIRECTORY | Flags.O_CLOEXEC, 0);
            Assert.True(f >= 0);
            fd = f;
            return new Closer(f);
        }

        private sealed class Closer : IDisposable
        {
            private readonly int _fd;
            public Closer(int fd) => _fd = fd;
            public void Dispose() => LibC.close(_fd);
        }

        [Fact]
        public void Delete_of_a_directory_holding_a_link_to_an_outside_directory_leaves_the_outside_alone()
        {
            Directory.CreateDirectory(Path.Combine(_root, "d", "e"));
            File.WriteAllText(Path.Combine(_root, "d", "e", "g"), "g");
            File.CreateSymbolicLink(Path.Combine(_root, "d", "out"), _outside);
            File.CreateSymbolicLink(Path.Combine(_root, "d", "e", "outfile"), Path.Combine(_outside, "f"));
            _h.Delete("d");
            Assert.False(Directory.Exists(Path.Combine(_root, "d")));
            AssertOutsideUntouched();
            _h.Delete("d"); // absent: no error
            Assert.Throws<InvalidOperationException>(() => _h.Delete(""));
        }

        [Fact]
        public void SetMetadata_on_a_link_to_an_outside_file_never_chmods_the_target()
        {
            File.CreateSymbolicLink(Path.Combine(_root, "l"), Path.Combine(_outside, "f"));
            var before = File.GetLastWriteTimeUtc(Path.Combine(_outside, "f"));
            _h.SetMetadata("l", Meta("l", EntryKind.Symlink, 0x1FF, mtime: 1_400_000_000), false);
            Assert.Equal(1_400_000_000, _h.Stat("l").MTime);
            Assert.Equal(before, File.GetLastWriteTimeUtc(Path.Combine(_outside, "f")));
            AssertOutsideUntouched();
        }

        // --- OpenRead on what is not a regular file ------------------------------------------------------------

        [Fact]
        public void OpenRead_refuses_a_symlink_a_directory_a_fifo_and_a_socket_without_hanging()
        {
            File.WriteAllText(Path.Combine(_root, "f"), "data");
            File.CreateSymbolicLink(Path.Combine(_root, "l"), "f");
            Directory.CreateDirectory(Path.Combine(_root, "d"));
            Raw.Mkfifo(Path.Combine(_root, "p"));
            using var sock = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            sock.Bind(new UnixDomainSocketEndPoint(Path.Combine(_root, "s")));

            Assert.Equal(EntryKind.Symlink, Assert.Throws<NotRegularFileException>(() => _h.OpenRead("l", out _)).Found);
            Assert.Equal(EntryKind.Directory, Assert.Throws<NotRegularFileException>(() => _h.OpenRead("d", out _)).Found);
            Assert.Equal(EntryKind.Socket, Assert.Throws<NotRegularFileException>(() => _h.OpenRead("s", out _)).Found);
            var fifo = Task.Run(() => Assert.Throws<NotRegularFileException>(() => _h.OpenRead("p", out _)).Found);
            Assert.True(fifo.Wait(TimeSpan.FromSeconds(5)), "OpenRead on a fifo blocked");
            Assert.Equal(EntryKind.Fifo, fifo.Result);
            Assert.Throws<FileNotFoundException>(() => _h.OpenRead("missing", out _));

            using var s = _h.OpenRead("f", out var meta);
            Assert.Equal(4, meta.Size);
            Assert.Equal(EntryKind.File, meta.Kind);
            Assert.Equal("data", new StreamReader(s).ReadToEnd());
        }

        // --- names are bytes ---------------------------------------------------------------------------------

        [Fact]
        public void Names_that_are_not_UTF8_round_trip_and_stay_distinct()
        {
            string e9 = "caf\uDCE9", ff = "caf\uDCFF", lone = "x\uDC80";
            Raw.WriteFile(_root, e9, new byte[] { 1 });
            Raw.WriteFile(_root, ff, new byte[] { 2, 2 });
            Directory.CreateDirectory(Path.Combine(_root, "dir"));
            Raw.WriteFile(Path.Combine(_root, "dir"), lone, new byte[] { 3, 3, 3 });

            var names = _h.List("").Select(m => m.RelativePath).ToList();
            Assert.Equal(new[] { e9, ff, "dir" }.OrderBy(n => n, Comparer<string>.Create((a, b) =>
                RealtimeMirror.Engine.Paths.PathEncoding.ToBytes(a).AsSpan().SequenceCompareTo(RealtimeMirror.Engine.Paths.PathEncoding.ToBytes(b)))), names);
            Assert.Equal("dir/" + lone, _h.List("dir").Single().RelativePath);
            Assert.Equal(1, _h.Stat(e9).Size);
            Assert.Equal(2, _h.Stat(ff).Size);
            Assert.Equal(3, _h.Stat("dir/" + lone).Size);

            _h.Rename(e9, "n\uDCE9");
            Assert.True(Raw.Exists(_root + "/n\uDCE9", out _));   // the byte 0xE9 itself, not U+00E9 or U+FFFD
            Assert.False(Raw.Exists(_root + "/n\u00E9", out _));
            Assert.Equal(2, _h.Stat(ff).Size);                      // the other name was not touched

            _h.Delete("n\uDCE9");
            _h.Delete("dir");
            Assert.False(Raw.Exists(_root + "/n\uDCE9", out _));
            Assert.False(Raw.Exists(_root + "/dir", out _));
            Assert.Equal(ff, _h.List("").Single().RelativePath);
        }

        [Fact]
        public void CreateTemp_makes_a_hidden_name_that_fits_beside_a_255_byte_name()
        {
            var longName = new string('\u00E9', 127) + "a"; // 255 bytes in UTF-8
            using (var s = _h.CreateTemp(longName, out var temp))
            {
                Assert.True(DirectoryHandle.IsTempName(temp));
                Assert.True(RealtimeMirror.Engine.Paths.PathEncoding.ByteCount(temp) <= 255);
                s.Write(new byte[] { 1, 2, 3 });
                s.Flush();
                Assert.Equal(0x180, _h.Stat(temp).Mode);
                _h.Rename(temp, longName);
            }
            Assert.Equal(3, _h.Stat(longName).Size);
        }

        // --- metadata --------------------------------------------------------------------------------------

        [Fact]
        public void Large_unsigned_ids_are_set_and_read_back_as_root()
        {
            if (!Raw.IsRoot) return; // only root may give a file away
            File.WriteAllText(Path.Combine(_root, "f"), "x");
            Assert.True(_h.SetMetadata("f", Meta("f", EntryKind.File, 0x9ED /*04755*/, 3_000_000_000, 3_000_000_001), true));
            var st = _h.Stat("f");
            Assert.Equal(3_000_000_000, st.Uid);
            Assert.Equal(3_000_000_001, st.Gid);
            Assert.Equal(0x9ED, st.Mode); // set-uid kept: the owner was set, and chmod came after chown
        }

        [Fact]
        public void SetUid_is_dropped_when_the_owner_is_not_set()
        {
            File.WriteAllText(Path.Combine(_root, "f"), "x");
            Assert.False(_h.SetMetadata("f", Meta("f", EntryKind.File, 0xDED /*06755*/, 0, 0), false));
            Assert.Equal(0x1ED, _h.Stat("f").Mode);
        }

        [Fact]
        public void Without_root_setOwner_keeps_going_returns_false_and_drops_setuid()
        {
            if (Raw.IsRoot) return; // as root the owner is set (see above)
            File.WriteAllText(Path.Combine(_root, "f"), "x");
            Assert.False(_h.SetMetadata("f", Meta("f", EntryKind.File, 0x9ED, 0, 0), true));
            Assert.Equal(0x1ED, _h.Stat("f").Mode);
        }

        [Fact]
        public void A_file_we_may_not_read_still_gets_its_mode_and_time()
        {
            File.WriteAllText(Path.Combine(_root, "w"), "x");
            File.SetUnixFileMode(Path.Combine(_root, "w"), UnixFileMode.UserWrite); // 0200: not openable for reading unless root
            _h.SetMetadata("w", Meta("w", EntryKind.File, 0x100 /*0400*/, mtime: 1_300_000_000, nanos: 7), false);
            var st = _h.Stat("w");
            Assert.Equal(0x100, st.Mode);
            Assert.Equal(1_300_000_000, st.MTime);
            Assert.Equal(7, st.MTimeNanos);
        }

        [Fact]
        public void Nanosecond_mtimes_round_trip_on_files_directories_and_links()
        {
            File.WriteAllText(Path.Combine(_root, "f"), "x");
            Directory.CreateDirectory(Path.Combine(_root, "d"));
            File.CreateSymbolicLink(Path.Combine(_root, "l"), "f");
            foreach (var (rel, kind) in new[] { ("f", EntryKind.File), ("d", EntryKind.Directory), ("l", EntryKind.Symlink) })
            {
                _h.SetMetadata(rel, Meta(rel, kind, 0x1A4, mtime: 1_234_567_890, nanos: 123_456_789), false);
                var st = _h.Stat(rel);
                Assert.Equal(1_234_567_890, st.MTime);
                Assert.Equal(123_456_789, st.MTimeNanos);
            }
            Assert.Equal(0x1A4, _h.Stat("d").Mode);
        }

        [Fact]
        public void Metadata_by_descriptor_applies_to_an_open_temp_file()
        {
            using (var s = _h.CreateTemp("f", out var temp))
            {
                s.Write(new byte[] { 9 });
                s.Flush();
                DirectoryHandle.SetMetadata(s.SafeFileHandle, Meta("f", EntryKind.File, 0x124 /*0444*/, mtime: 1_000_000_000, nanos: 5), false);
                _h.Rename(temp, "f");
            }
            var st = _h.Stat("f");
            Assert.Equal(0x124, st.Mode);
            Assert.Equal(1_000_000_000, st.MTime);
            Assert.Equal(5, st.MTimeNanos);
        }

        // --- specials, links, directories, roots -----------------------------------------------------------

        [Fact]
        public void Fifos_and_devices_are_made_and_stat_back_with_their_device_number()
        {
            _h.CreateSpecial("p", Meta("p", EntryKind.Fifo, 0x1A4));
            Assert.Equal(EntryKind.Fifo, _h.Stat("p").Kind);
            _h.SetMetadata("p", Meta("p", EntryKind.Fifo, 0x1B6 /*0666*/, mtime: 1_100_000_000), false);
            Assert.Equal(0x1B6, _h.Stat("p").Mode);
            Assert.Equal(1_100_000_000, _h.Stat("p").MTime);
            Assert.Throws<NotSupportedException>(() => _h.CreateSpecial("s", Meta("s", EntryKind.Socket, 0x1A4)));
            if (!Raw.IsRoot) return;
            var dev = StatX.MakeDev(1, 3); // /dev/null's numbers
            _h.CreateSpecial("c", new FileMeta("c", EntryKind.CharDevice, 0, 0, 0x1A4, 0, 0, null) { DeviceNumber = dev });
            var c = _h.Stat("c");
            Assert.Equal(EntryKind.CharDevice, c.Kind);
            Assert.Equal(dev, c.DeviceNumber);
            Assert.Equal(EntryKind.Fifo, _h.List("").Single(m => m.RelativePath == "p").Kind);
        }

        [Fact]
        public void Hard_links_share_the_inode_and_count()
        {
            File.WriteAllText(Path.Combine(_root, "a"), "x");
            _h.CreateHardLink("a", "b");
            var a = _h.Stat("a");
            var b = _h.Stat("b");
            Assert.Equal(a.Inode, b.Inode);
            Assert.Equal(a.Device, b.Device);
            Assert.Equal(2, b.LinkCount);
        }

        [Fact]
        public void Stat_is_null_for_absent_entries_and_below_a_file()
        {
            File.WriteAllText(Path.Combine(_root, "f"), "x");
            Assert.Null(_h.Stat("missing"));
            Assert.Null(_h.Stat("missing/deeper"));
            Assert.Null(_h.Stat("f/below"));
            Assert.Equal(EntryKind.Directory, _h.Stat("").Kind);
            Assert.Throws<ArgumentException>(() => _h.Stat("../outside"));
        }

        [Fact]
        public void CreateDirectory_accepts_an_existing_directory_but_not_a_file()
        {
            _h.CreateDirectory("d");
            _h.CreateDirectory("d");
            File.WriteAllText(Path.Combine(_root, "f"), "x");
            Assert.Equal(Errno.EEXIST, Assert.Throws<PosixException>(() => _h.CreateDirectory("f")).Errno);
            _h.CreateDirectory("d/e");
            Assert.Equal(EntryKind.Directory, _h.List("d").Single().Kind);
        }

        [Fact]
        public void Open_requires_a_directory_and_OpenOrCreate_makes_one_with_parents()
        {
            Assert.Throws<DirectoryNotFoundException>(() => DirectoryHandle.Open(Path.Combine(_base, "nope")));
            Assert.Throws<DirectoryNotFoundException>(() => DirectoryHandle.Open(Path.Combine(_outside, "f")));
            var deep = Path.Combine(_base, "new", "a", "b");
            using (var h = DirectoryHandle.OpenOrCreate(deep))
            {
                Assert.Equal(deep, h.Path);
                Assert.True(Directory.Exists(deep));
                Assert.Empty(h.List(""));
            }
            // A root given as a link is the admin's choice: allowed.
            File.CreateSymbolicLink(Path.Combine(_base, "rootlink"), _root);
            using var viaLink = DirectoryHandle.Open(Path.Combine(_base, "rootlink"));
            Assert.Equal(EntryKind.Directory, viaLink.Stat("").Kind);
        }

        [Fact]
        public void A_disposed_handle_refuses_further_use()
        {
            var h = DirectoryHandle.Open(_root);
            h.Dispose();
            Assert.Throws<ObjectDisposedException>(() => h.Stat("x"));
        }
    }
}
