using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Transport;
using Xunit;
using Xunit.Abstractions;

namespace RealtimeMirror.Engine.Tests.Transport
{
    /// <summary>
    /// SftpReplica against the loopback sshd. The replica directory is on this machine, so the tests plant attacks in
    /// it and inspect it directly, with the shell (bytes, independent of the engine's own encoding) where names matter.
    /// </summary>
    public class SftpReplicaTests : IDisposable
    {
        private readonly string _src = Directory.CreateTempSubdirectory("rtm-sftp-src-").FullName;
        private readonly string _dst = Directory.CreateTempSubdirectory("rtm-sftp-dst-").FullName;
        private readonly string _outside = Directory.CreateTempSubdirectory("rtm-sftp-outside-").FullName;
        private readonly ITestOutputHelper _output;
        private DirectoryHandle _source;

        public SftpReplicaTests(ITestOutputHelper output) => _output = output;

        public void Dispose()
        {
            _source?.Dispose();
            foreach (var d in new[] { _src, _dst, _outside }) Sh($"rm -rf '{d}'");
        }

        private DirectoryHandle Source => _source ??= DirectoryHandle.Open(_src);

        private SftpReplica OpenReplica(bool preserveOwner = true, string remotePath = null)
        {
            var r = new SftpReplica(SshTestEnvironment.Target(remotePath ?? _dst, preserveOwner));
            r.Open(CancellationToken.None);
            return r;
        }

        /// <summary>Runs a bash script with SRC, DST and OUT exported; returns stdout, throws on failure.</summary>
        private string Sh(string script)
        {
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("set -e; " + script);
            psi.Environment["SRC"] = _src;
            psi.Environment["DST"] = _dst;
            psi.Environment["OUT"] = _outside;
            using var p = Process.Start(psi);
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"bash failed ({p.ExitCode}): {stderr}\n{script}");
            return stdout.Trim();
        }

        /// <summary>The names in a directory (a bash word, e.g. "$DST/eve") as Python byte-string reprs, sorted: exact bytes.</summary>
        private string RawNames(string dirWord) =>
            Sh($"python3 -c 'import os,sys; print(sorted(os.listdir(os.fsencode(sys.argv[1]))))' \"{dirWord}\"");

        private void PlantEveAttack()
        {
            // An outside directory the replica user must never touch, and eve/d swapped for a link to it.
            Sh("mkdir -p \"$SRC/eve/d\" \"$DST/eve\"; printf 'evil' > \"$SRC/eve/d/passwd\"; " +
               "printf 'root:x:0:0' > \"$OUT/passwd\"; chmod 0644 \"$OUT/passwd\"; chmod 0700 \"$OUT\"; ln -s \"$OUT\" \"$DST/eve/d\"");
        }

        /// <summary>Names, modes, sizes, times, owners and contents of everything in the outside directory.</summary>
        private string OutsideState() => Sh("find \"$OUT\" -exec stat -c '%n %a %s %Y %u %g' {} + | sort; find \"$OUT\" -type f -exec cat {} +");

        [SshFact]
        public void A_file_is_never_chmodded_or_chowned_in_place_since_SFTP_cannot_count_its_links()
        {
            // A user of the backup host links a replica name to a file of its own outside the replica.
            Sh("printf secret > \"$OUT/victim\"; chmod 0600 \"$OUT/victim\"; ln \"$OUT/victim\" \"$DST/f\"");
            var before = OutsideState();
            using var r = OpenReplica();
            var e = Assert.Throws<SharedInodeException>(() => r.ApplyMetadata(new FileMeta("f", EntryKind.File, 6, 1_600_000_000, 0x1FF, 1234, 1234, null)));
            Assert.Equal(0, e.LinkCount);
            Assert.Equal(before, OutsideState());
        }

        [SshFact]
        public void A_replica_directory_swapped_for_a_link_refuses_every_write_below_it()
        {
            PlantEveAttack();
            var before = OutsideState();
            using var r = OpenReplica();
            var meta = new FileMeta("eve/d/passwd", EntryKind.File, 4, 1_600_000_000, 0x1FF, 0, 0, null);

            var e = Assert.ThrowsAny<IOException>(() => r.UploadFile(Source, "eve/d/passwd", CancellationToken.None));
            Assert.Contains("replica path component 'eve/d' is a symlink; refusing to write through it", e.Message);
            Assert.ThrowsAny<IOException>(() => r.CreateDirectory("eve/d/sub", null));
            Assert.ThrowsAny<IOException>(() => r.ApplyMetadata(meta));
            r.ApplyMetadata(new FileMeta("eve/d", EntryKind.Directory, 0, 1, 0x1FF, 1234, 1234, null)); // the link itself: skipped
            Assert.ThrowsAny<IOException>(() => r.Delete("eve/d/passwd"));
            Assert.ThrowsAny<IOException>(() => r.CreateSymlink(new FileMeta("eve/d/l", EntryKind.Symlink, 1, 1, 0x1FF, 0, 0, "x")));
            Assert.ThrowsAny<IOException>(() => r.Rename("eve/d/passwd", "stolen"));
            Assert.ThrowsAny<IOException>(() => r.Stat("eve/d/passwd"));
            Assert.ThrowsAny<IOException>(() => r.List("eve/d"));
            Assert.Equal(before, OutsideState());

            // The link itself is an entry of eve/: deleting it removes the link, never what it points to.
            r.Delete("eve/d");
            Assert.Equal(before, OutsideState());
            Assert.Equal("[]", RawNames("$DST/eve"));
            Assert.Equal("700", Sh("stat -c %a \"$OUT\""));
        }

        [SshFact]
        public void A_recursive_delete_removes_links_inside_as_links()
        {
            Sh("mkdir -p \"$DST/t/sub\"; printf x > \"$DST/t/sub/f\"; ln -s \"$OUT\" \"$DST/t/sub/out\"; ln -s \"$OUT\" \"$DST/t/out2\"; printf keep > \"$OUT/keep\"");
            using var r = OpenReplica();
            r.Delete("t");
            Assert.Equal("[]", RawNames("$DST"));
            Assert.Equal("keep", Sh("cat \"$OUT/keep\""));
            r.Delete("t"); // absent: no error
            r.Delete("nothere/at/all");
        }

        [SshFact]
        public void A_link_at_the_final_name_is_replaced_by_the_upload_and_its_target_untouched()
        {
            Sh("printf 'new content' > \"$SRC/f\"; printf 'secret' > \"$OUT/target\"; chmod 0600 \"$OUT/target\"; ln -s \"$OUT/target\" \"$DST/f\"");
            var before = OutsideState();
            using var r = OpenReplica();
            Assert.Equal(EntryKind.Symlink, r.Stat("f").Kind);
            Assert.Equal(11, r.UploadFile(Source, "f", CancellationToken.None));
            Assert.Equal("regular file", Sh("stat -c %F \"$DST/f\""));
            Assert.Equal("new content", Sh("cat \"$DST/f\""));
            Assert.Equal("secret", Sh("cat \"$OUT/target\""));
            Assert.Equal("600", Sh("stat -c %a \"$OUT/target\""));
            Assert.True(r.ContentEquals(Source, "f", CancellationToken.None));
        }

        [SshFact]
        public void ContentEquals_compares_every_byte_and_never_reads_through_a_link()
        {
            // 3 MiB: several read-ahead windows; the replica copy differs in its very last byte.
            Sh("head -c 3145728 /dev/urandom > \"$SRC/f\"; cp \"$SRC/f\" \"$DST/f\"; cp \"$SRC/f\" \"$DST/g\"; cp \"$SRC/f\" \"$SRC/g\"; " +
               "printf 'z' | dd of=\"$DST/g\" bs=1 seek=3145727 conv=notrunc status=none; cp \"$SRC/f\" \"$OUT/same\"; ln -s \"$OUT/same\" \"$DST/l\"; cp \"$SRC/f\" \"$SRC/l\"");
            using var r = OpenReplica();
            Assert.True(r.ContentEquals(Source, "f", CancellationToken.None));
            Assert.False(r.ContentEquals(Source, "g", CancellationToken.None));
            Assert.False(r.ContentEquals(Source, "l", CancellationToken.None));
            Sh("printf 'x' > \"$SRC/absent\"");
            Assert.False(r.ContentEquals(Source, "absent", CancellationToken.None));
        }

        [SshFact]
        public void ApplyMetadata_on_a_link_changes_nothing_at_its_target()
        {
            Sh("printf t > \"$OUT/t\"; chmod 0600 \"$OUT/t\"; touch -d @1500000000 \"$OUT/t\"; ln -s \"$OUT/t\" \"$DST/l\"");
            var before = OutsideState();
            using var r = OpenReplica();
            r.ApplyMetadata(new FileMeta("l", EntryKind.File, 1, 1_700_000_000, 0x1FF, 1234, 1234, null));
            r.ApplyMetadata(new FileMeta("l", EntryKind.Symlink, 1, 1_700_000_000, 0x1FF, 1234, 1234, "x"));
            Assert.Equal(before, OutsideState());
            Assert.Equal("0 0", Sh("stat -c '%u %g' \"$OUT/t\""));
        }

        [SshFact]
        public void Non_utf8_names_and_link_targets_round_trip_as_bytes()
        {
            // Made by the shell from raw bytes: .NET's own file APIs would write UTF-8.
            Sh("cd \"$SRC\"; printf 'latin' > \"$(printf 'caf\\xe9')\"; printf 'ff' > \"$(printf 'x\\xff')\"; mkdir \"$(printf 'd\\xe9')\"; " +
               "printf 'in' > \"$(printf 'd\\xe9/f\\xff')\"; ln -s \"$(printf 't\\xe9\\xff')\" \"$(printf 'l\\xe9')\"");
            string cafe = "caf\udce9", xff = "x\udcff", dir = "d\udce9", inner = "d\udce9/f\udcff", link = "l\udce9";
            using var r = OpenReplica();

            var dmeta = Source.Stat(dir);
            r.CreateDirectory(dir, dmeta);
            Assert.Equal(5, r.UploadFile(Source, cafe, CancellationToken.None));
            Assert.Equal(2, r.UploadFile(Source, xff, CancellationToken.None));
            Assert.Equal(2, r.UploadFile(Source, inner, CancellationToken.None));
            var lmeta = Source.Stat(link);
            Assert.Equal("t\udce9\udcff", lmeta.LinkTarget);
            r.CreateSymlink(lmeta);

            Assert.Equal("[b'caf\\xe9', b'd\\xe9', b'l\\xe9', b'x\\xff']", RawNames("$DST"));
            Assert.Equal("[b'f\\xff']", RawNames("$DST/$(printf 'd\\xe9')"));
            Assert.Equal("b't\\xe9\\xff'", Sh("python3 -c 'import os,sys; print(os.readlink(os.fsencode(sys.argv[1])))' \"$DST/$(printf 'l\\xe9')\""));
            Assert.Equal("latin", Sh("cat \"$DST/$(printf 'caf\\xe9')\""));

            var listed = r.List("");
            Assert.Equal(new[] { cafe, dir, link, xff }, listed.Select(m => m.RelativePath).ToArray());
            Assert.Equal("t\udce9\udcff", listed.Single(m => m.RelativePath == link).LinkTarget);
            Assert.Equal(new[] { inner }, r.List(dir).Select(m => m.RelativePath).ToArray());
            Assert.Equal(EntryKind.File, r.Stat(inner).Kind);
            Assert.Equal("t\udce9\udcff", r.Stat(link).LinkTarget);
            Assert.True(r.ContentEquals(Source, cafe, CancellationToken.None));

            r.Rename(cafe, "r\udce9");
            Assert.Null(r.Stat(cafe));
            Assert.Equal("latin", Sh("cat \"$DST/$(printf 'r\\xe9')\""));
            r.Delete("r\udce9");
            r.Delete(dir);
            r.Delete(link);
            Assert.Equal("[b'x\\xff']", RawNames("$DST"));
        }

        [SshFact]
        public void List_and_Stat_report_entries_as_lstat_sees_them_and_absence_is_told_apart()
        {
            Sh("mkdir -p \"$DST/d/sub\"; printf 'abc' > \"$DST/d/f\"; ln -s \"$OUT\" \"$DST/d/tolink\"; mkfifo \"$DST/d/p\"; printf x > \"$DST/file\"; " +
               "touch -d @1500000000 \"$DST/d/f\"; chmod 0640 \"$DST/d/f\"; printf 'in' > \"$OUT/inside\"");
            using var r = OpenReplica();
            var entries = r.List("d");
            Assert.Equal(new[] { "d/f", "d/p", "d/sub", "d/tolink" }, entries.Select(m => m.RelativePath).ToArray());
            var f = entries[0];
            Assert.Equal((EntryKind.File, 3L, 1500000000L, 0x1A0), (f.Kind, f.Size, f.MTime, f.Mode));
            Assert.Equal(EntryKind.Fifo, entries[1].Kind);
            Assert.Equal(EntryKind.Directory, entries[2].Kind);
            Assert.Equal((EntryKind.Symlink, _outside), (entries[3].Kind, entries[3].LinkTarget));
            Assert.Equal(EntryKind.Symlink, r.Stat("d/tolink").Kind);
            Assert.Equal(EntryKind.Directory, r.Stat("").Kind);
            Assert.Empty(r.List("d/sub"));

            Assert.Null(r.Stat("nothere"));
            Assert.Null(r.Stat("nothere/below"));
            Assert.Null(r.Stat("file/below")); // a file where a directory would be: absent, not an error
            Assert.ThrowsAny<IOException>(() => r.List("nothere"));
            Assert.ThrowsAny<IOException>(() => r.List("file"));
            Assert.ThrowsAny<IOException>(() => r.List("d/tolink"));
            Assert.ThrowsAny<IOException>(() => r.Stat("d/tolink/inside"));

            Sh("mkdir \"$SRC/nothere\"; printf x > \"$SRC/nothere/g\"; mkfifo \"$SRC/fifo\"");
            Assert.Throws<DirectoryNotFoundException>(() => r.UploadFile(Source, "nothere/g", CancellationToken.None));
            Assert.Throws<NotRegularFileException>(() => r.UploadFile(Source, "fifo", CancellationToken.None));
            Assert.ThrowsAny<FileNotFoundException>(() => r.UploadFile(Source, "gone", CancellationToken.None));
            Assert.Null(r.Stat("fifo"));

            r.CreateDirectory("d/sub", new FileMeta("d/sub", EntryKind.Directory, 0, 1400000000, 0x1C0, 0, 0, null)); // exists: attributes only
            Assert.Equal("700 1400000000", Sh("stat -c '%a %Y' \"$DST/d/sub\""));
            Assert.ThrowsAny<IOException>(() => r.CreateDirectory("d/f", null));
            Assert.Equal("in", Sh("cat \"$OUT/inside\""));

            // The root's own attributes are the root entry's: set, then read back equal.
            r.ApplyMetadata(new FileMeta("", EntryKind.Directory, 0, 1300000000, 0x1E8, 0, 0, null));
            Assert.Equal("750 1300000000", Sh("stat -c '%a %Y' \"$DST\""));
            Assert.Equal((1300000000L, 0x1E8), (r.Stat("").MTime, r.Stat("").Mode));
        }

        [SshFact]
        public void A_255_byte_name_uploads()
        {
            var name = new string('n', 250) + "\u00e9\u00e9\u00e9"[..2] + "z"; // 250 + 4 + 1 = 255 bytes
            Assert.Equal(255, Paths.PathEncoding.ByteCount(name));
            Sh($"printf 'long' > \"$SRC/{name}\"");
            using var r = OpenReplica();
            Assert.Equal(4, r.UploadFile(Source, name, CancellationToken.None));
            Assert.Equal("long", Sh($"cat \"$DST/{name}\""));
            Assert.Equal(EntryKind.File, r.Stat(name).Kind);
            Assert.Equal(new[] { name }, r.List("").Select(m => m.RelativePath).ToArray());
        }

        [SshFact]
        public void Owner_ids_above_2_to_the_31_land_exactly_and_setuid_stays_when_the_owner_is_set()
        {
            Sh("printf 'x' > \"$SRC/f\"; chown 3000000000:3000000001 \"$SRC/f\"; chmod 4755 \"$SRC/f\"; touch -d @1600000000 \"$SRC/f\"; " +
               "mkdir \"$SRC/d\"; chown 3000000002:3000000003 \"$SRC/d\"; chmod 2750 \"$SRC/d\"");
            using var r = OpenReplica();
            Assert.True(r.CanSetOwner);
            r.UploadFile(Source, "f", CancellationToken.None);
            r.CreateDirectory("d", Source.Stat("d"));
            Assert.Equal("3000000000 3000000001 4755 1600000000", Sh("stat -c '%u %g %a %Y' \"$DST/f\""));
            Assert.Equal("3000000002 3000000003 2750", Sh("stat -c '%u %g %a' \"$DST/d\""));
            var m = r.Stat("f");
            Assert.Equal(3000000000L, m.Uid);
            Assert.Equal(3000000001L, m.Gid);
            Assert.Equal(0x9ED, m.Mode);
            Assert.Equal(1600000000L, m.MTime);
        }

        [SshFact]
        public void Setuid_and_setgid_are_dropped_when_the_owner_is_not_set()
        {
            Sh("printf 'x' > \"$SRC/f\"; chown 3000000000:3000000001 \"$SRC/f\"; chmod 6755 \"$SRC/f\"; " +
               "mkdir \"$SRC/d\"; chown 3000000000:3000000001 \"$SRC/d\"; chmod 2755 \"$SRC/d\"");
            using var r = OpenReplica(preserveOwner: false);
            Assert.False(r.CanSetOwner);
            r.UploadFile(Source, "f", CancellationToken.None);
            Assert.Equal("0 0 755", Sh("stat -c '%u %g %a' \"$DST/f\""));
            // Set in place (a directory: files are never set in place over SFTP, which cannot count their links).
            Sh("mkdir \"$DST/d\"; chmod 2755 \"$DST/d\"");
            r.ApplyMetadata(Source.Stat("d"));
            Assert.Equal("0 0 755", Sh("stat -c '%u %g %a' \"$DST/d\""));
        }

        [SshFact]
        public void Cancel_stops_a_big_upload_within_a_second_and_removes_the_temp()
        {
            Sh("truncate -s 20G \"$SRC/big\"");
            using var r = OpenReplica();
            using var cts = new CancellationTokenSource();
            // Cancelled from a thread of its own, as Ctrl+C does: a timer would need a pool thread, and on a loaded
            // machine that can come hundreds of milliseconds late, which would measure the machine, not the upload.
            var cancelledAt = new Stopwatch();
            var canceller = new Thread(() => { Thread.Sleep(200); cancelledAt.Start(); cts.Cancel(); }) { IsBackground = true };
            canceller.Start();
            Assert.ThrowsAny<OperationCanceledException>(() => r.UploadFile(Source, "big", cts.Token));
            var afterCancel = cancelledAt.ElapsedMilliseconds;
            _output.WriteLine($"UploadFile returned {afterCancel} ms after the cancel");
            Assert.True(afterCancel < 1000, $"UploadFile returned {afterCancel} ms after the cancel");
            // The temp's removal is sent at once; the host may take a while to unlink what was written.
            var removal = Stopwatch.StartNew();
            while (RawNames("$DST") != "[]" && removal.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(50);
            Assert.Equal("[]", RawNames("$DST"));
            // The connection stays usable after a cancel.
            Sh("printf 'ok' > \"$SRC/small\"");
            Assert.Equal(2, r.UploadFile(Source, "small", CancellationToken.None));
        }

        [SshFact]
        public void Specials_are_not_supported_and_mkdir_refuses_a_link_in_the_way()
        {
            Sh("ln -s \"$OUT\" \"$DST/dl\"");
            using var r = OpenReplica();
            Assert.False(r.CanCreateSpecial);
            Assert.Equal(1_000_000_000, r.TimeResolutionNanos);
            Assert.Throws<NotSupportedException>(() => r.CreateSpecial(new FileMeta("p", EntryKind.Fifo, 0, 0, 0x1A4, 0, 0, null)));
            Assert.ThrowsAny<IOException>(() => r.CreateDirectory("dl", new FileMeta("dl", EntryKind.Directory, 0, 0, 0x1FF, 0, 0, null)));
            Assert.Equal("700", Sh("stat -c %a \"$OUT\""));
        }

        [SshFact]
        public void A_configured_root_that_is_a_link_is_resolved_once_and_a_root_swapped_later_is_refused()
        {
            Sh("mkdir \"$DST/real\"; ln -s \"$DST/real\" \"$DST/alias\"; printf x > \"$SRC/f\"");
            using var r = OpenReplica(remotePath: _dst + "/alias");
            r.UploadFile(Source, "f", CancellationToken.None);
            Assert.Equal("x", Sh("cat \"$DST/real/f\""));
            Sh("mv \"$DST/real\" \"$DST/real.old\"; ln -s \"$OUT\" \"$DST/real\"");
            var e = Assert.ThrowsAny<IOException>(() => r.UploadFile(Source, "f", CancellationToken.None));
            Assert.Contains("symlink", e.Message);
            Assert.Equal("[]", RawNames("$OUT"));
        }
    }
}
