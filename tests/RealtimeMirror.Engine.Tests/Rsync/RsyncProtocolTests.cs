using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Transport.Rsync;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Rsync
{
    /// <summary>
    /// Each protocol we speak against the real `rsync --server`, forced to it with --protocol=N (standing in for an
    /// older rsync): trees, times, names, order, delta, -I, -H, vanished files, each negotiated checksum.
    /// </summary>
    public class RsyncProtocolTests : IDisposable
    {
        private readonly string _src = Directory.CreateTempSubdirectory("rtm-rp-src-").FullName;
        private readonly string _dst = Directory.CreateTempSubdirectory("rtm-rp-dst-").FullName;
        public void Dispose() => Process.Start("rm", new[] { "-rf", _src, _dst }).WaitForExit();

        public static IEnumerable<object[]> Protocols => new[] { 27, 28, 29, 30, 31 }.Select(p => new object[] { p });

        private (RsyncPushOutcome Outcome, List<RsyncFileReport> Reports) Push(int protocol, Action<RsyncPushOptions> configure = null,
            Action<string> beforeRead = null, IReadOnlyDictionary<string, string> env = null, int expectedExit = 0, int ioError = 0)
        {
            var options = new RsyncPushOptions { ServerProtocol = protocol };
            configure?.Invoke(options);
            using var server = LocalRsyncServer.Start(options, _dst, environment: env);
            var sender = new RsyncSender(server.StandardOutput.BaseStream, server.StandardInput.BaseStream, options) { ServerName = "local rsync", BeforeRead = beforeRead };
            var reports = new List<RsyncFileReport>();
            var stderr = server.StandardError.ReadToEndAsync();
            var outcome = sender.Push(new TestSource(_src), PosixTestFs.Walk(_src), wholeTree: true, ioError, reports.Add, default);
            server.StandardInput.Close();
            Assert.True(server.WaitForExit(60000), "rsync --server did not exit");
            Assert.True(server.ExitCode == expectedExit, $"rsync exit {server.ExitCode}: {stderr.Result} {string.Join(" | ", outcome.ServerMessages)}");
            Assert.Equal(protocol, outcome.Protocol);
            return (outcome, reports);
        }

        private static string Sig(string root) => RsyncSenderTests.Signature(root, owners: PosixTestFs.IsRoot);

        private static string Nanos(string root) => string.Join("\n", PosixTestFs.Walk(root).Where(m => m.Kind != EntryKind.Symlink)
            .OrderBy(m => Convert.ToHexString(PathEncoding.ToBytes(m.RelativePath)), StringComparer.Ordinal)
            .Select(m => $"{Convert.ToHexString(PathEncoding.ToBytes(m.RelativePath))} {m.MTime}.{m.MTimeNanos:D9}"));

        [Theory]
        [MemberData(nameof(Protocols))]
        public void A_tree_lands_equal(int protocol)
        {
            Directory.CreateDirectory(Path.Combine(_src, "d", "e"));
            for (int i = 0; i < 20; i++)
            {
                var p = Path.Combine(_src, i % 3 == 0 ? "d" : i % 3 == 1 ? "d/e" : "", $"f{i}");
                File.WriteAllBytes(p, Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"file {i} ", 50 * i + 1))));
                PosixTestFs.SetMTime(p, 1_600_000_000 + i * 1000);
                File.SetUnixFileMode(p, (UnixFileMode)(i % 2 == 0 ? 0x1A4 : 0x1ED));
                if (PosixTestFs.IsRoot) PosixTestFs.Chown(p, (uint)(1000 + i), (uint)(2_000_000_000 + i));
            }
            PosixTestFs.Symlink("d/e/f1", _src + "/link");
            PosixTestFs.Symlink("nowhere", _src + "/d/dangling");
            PosixTestFs.MkFifo(Path.Combine(_src, "d", "pipe"));
            File.WriteAllBytes(Path.Combine(_src, "empty"), Array.Empty<byte>());
            var (outcome, reports) = Push(protocol, o => { o.PreserveOwner = o.PreserveGroup = PosixTestFs.IsRoot; o.PreserveSpecials = true; });
            Assert.Equal(Sig(_src), Sig(_dst));
            Assert.Equal(21, reports.Count);
            Assert.Empty(outcome.Replan);
            Assert.Equal(protocol >= 30 ? "xxh128" : "md4", outcome.Checksum);
            // A second push finds nothing to do.
            var (_, again) = Push(protocol);
            Assert.Empty(again);
        }

        [Theory]
        [MemberData(nameof(Protocols))]
        public void Each_file_is_reported_once_the_receiver_confirms_it_and_nothing_is_removed(int protocol)
        {
            Directory.CreateDirectory(Path.Combine(_src, "open"));
            Directory.CreateDirectory(Path.Combine(_src, "locked"));
            for (int i = 0; i < 4; i++) File.WriteAllText(Path.Combine(_src, "open", $"f{i}"), $"file {i}");
            File.WriteAllText(Path.Combine(_src, "locked", "x"), "cannot land");
            // Links and specials the receiver makes unasked are confirmed alike, so they count only once in place too.
            PosixTestFs.Symlink("f0", _src + "/open/link");
            PosixTestFs.MkFifo(Path.Combine(_src, "open", "pipe"));
            PosixTestFs.Symlink("x", _src + "/locked/link");
            Directory.CreateDirectory(Path.Combine(_dst, "locked"));
            // A directory the receiver cannot write into (immutable; as root, modes would not stop it).
            bool locked = Chattr("+i", Path.Combine(_dst, "locked"));
            try
            {
                var (outcome, reports) = Push(protocol, o => { o.ConfirmEachFile = true; o.PreserveSpecials = true; }, expectedExit: locked ? 23 : 0);
                Assert.Equal(new[] { "open/f0", "open/f1", "open/f2", "open/f3" }.Concat(locked ? new string[0] : new[] { "locked/x" }).OrderBy(p => p, StringComparer.Ordinal),
                    reports.Select(r => r.RelativePath).OrderBy(p => p, StringComparer.Ordinal));
                Assert.Equal(locked ? new[] { "locked/link", "locked/x" } : new string[0], outcome.Unconfirmed.OrderBy(p => p, StringComparer.Ordinal));
                Assert.Equal("f0", PosixTestFs.ReadLink(_dst + "/open/link"));
                Assert.Equal(EntryKind.Fifo, PosixTestFs.LStat(Path.Combine(_dst, "open", "pipe"), "open/pipe").Kind);
                // --remove-source-files only makes the receiver confirm: the sender (us) removes nothing.
                Assert.True(File.Exists(Path.Combine(_src, "locked", "x")));
                for (int i = 0; i < 4; i++) Assert.Equal($"file {i}", File.ReadAllText(Path.Combine(_dst, "open", $"f{i}")));
            }
            finally { if (locked) Chattr("-i", Path.Combine(_dst, "locked")); }
        }

        private static bool Chattr(string flag, string path)
        {
            using var p = Process.Start(new ProcessStartInfo("chattr", $"{flag} {path}") { RedirectStandardError = true });
            p.WaitForExit();
            return p.ExitCode == 0;
        }

        /// <summary>
        /// 31 carries 64-bit seconds and nanoseconds, 30 64-bit seconds, 27-29 unsigned 32-bit seconds: there a time
        /// before 1970 or after 2106 lands at the nearest end of that range (as over SFTP v3), never wrapped (1965 as 2101).
        /// </summary>
        [Theory]
        [MemberData(nameof(Protocols))]
        public void Times_1965_2040_2107_and_nanoseconds_land_as_the_protocol_carries_them(int protocol)
        {
            var times = new (string Name, long Sec, int Ns)[]
            {
                ("1965", -157_766_400, 0), ("1965ns", -157_766_400, 123_456_789), ("2040", 2_208_988_800, 999_999_999),
                ("2107", 4_354_819_200, 123_456_789), ("now", 1_700_000_000, 1),
            };
            foreach (var t in times) { File.WriteAllText(Path.Combine(_src, t.Name), t.Name); PosixTestFs.SetMTime(Path.Combine(_src, t.Name), t.Sec, t.Ns); }
            Directory.CreateDirectory(Path.Combine(_src, "dir"));
            PosixTestFs.SetMTime(Path.Combine(_src, "dir"), 4_354_819_200, 5);
            long Carried(long sec) => protocol >= 30 ? sec : Math.Clamp(sec, 0L, uint.MaxValue);
            Push(protocol);
            foreach (var t in times)
            {
                var m = PosixTestFs.LStat(Path.Combine(_dst, t.Name), t.Name);
                Assert.Equal((t.Name, Carried(t.Sec), protocol >= 31 ? t.Ns : 0), (t.Name, m.MTime, m.MTimeNanos));
            }
            var d = PosixTestFs.LStat(Path.Combine(_dst, "dir"), "dir");
            Assert.Equal((Carried(4_354_819_200L), protocol >= 31 ? 5 : 0), (d.MTime, d.MTimeNanos));
            if (protocol >= 31) Assert.Equal(Nanos(_src), Nanos(_dst));
            // What landed is what this protocol can say: a second push with -I sends the same times and changes none.
            var before = Nanos(_dst);
            Push(protocol, o => o.IgnoreTimes = true);
            Assert.Equal(before, Nanos(_dst));
        }

        /// <summary>
        /// -Compress: zstd where the session negotiates compression (30 and 31 with varint flags, as rsync 3.2+ speaks
        /// them); below 30 the receiver would expect zlib, which is refused at the start with a clear error (the product
        /// then sends the batch over SFTP). Without -Compress every protocol sends plain tokens.
        /// </summary>
        [Theory]
        [MemberData(nameof(Protocols))]
        public void Compression_on_and_off_at_each_protocol(int protocol)
        {
            var text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 20_000).Select(i => $"line {i % 613} of compressible text\n")));
            File.WriteAllBytes(Path.Combine(_src, "text"), text);
            var (plain, _) = Push(protocol);
            Assert.Equal("none", plain.Compression);
            Assert.True(plain.BytesSent > text.Length, $"sent {plain.BytesSent} bytes of {text.Length} uncompressed");
            Assert.Equal(Sig(_src), Sig(_dst));

            Process.Start("rm", new[] { "-rf", _dst + "/text" }).WaitForExit();
            if (protocol < 30)
            {
                var options = new RsyncPushOptions { ServerProtocol = protocol, Compress = true };
                using var server = LocalRsyncServer.Start(options, _dst);
                var sender = new RsyncSender(server.StandardOutput.BaseStream, server.StandardInput.BaseStream, options) { ServerName = "old-host" };
                var e = Assert.Throws<NotSupportedException>(() => sender.Push(new TestSource(_src), PosixTestFs.Walk(_src), true, 0, null, default));
                Assert.Contains($"The rsync on old-host (protocol {protocol}) would compress with zlib", e.Message);
                server.Kill();
                Assert.False(File.Exists(Path.Combine(_dst, "text")));
                return;
            }
            var (zstd, reports) = Push(protocol, o => o.Compress = true);
            Assert.Equal("zstd", zstd.Compression);
            Assert.True(zstd.BytesSent < text.Length / 5, $"sent {zstd.BytesSent} bytes of {text.Length} with zstd");
            Assert.False(Assert.Single(reports).Redo);
            Assert.Equal(Sig(_src), Sig(_dst));
        }

        /// <summary>io_error at the list's end (an int below 30, in the end marker from 30): the receiver deletes nothing.</summary>
        [Theory]
        [MemberData(nameof(Protocols))]
        public void Io_error_in_the_list_makes_the_receiver_skip_deletion(int protocol)
        {
            File.WriteAllText(Path.Combine(_src, "keep"), "k");
            File.WriteAllText(Path.Combine(_dst, "stray"), "s");
            // 23 (partial transfer) is how the receiver says it skipped deletion.
            var (outcome, _) = Push(protocol, o => o.Delete = true, expectedExit: 23, ioError: FileListWriter.IoErrorGeneral);
            Assert.Contains(outcome.ServerMessages, m => m.Contains("skipping file deletion"));
            Assert.True(File.Exists(Path.Combine(_dst, "stray")), "deleted despite io_error");
            Assert.Equal("k", File.ReadAllText(Path.Combine(_dst, "keep")));
            Push(protocol, o => o.Delete = true);
            Assert.False(File.Exists(Path.Combine(_dst, "stray")), "the control push should delete");
        }

        /// <summary>rsync --delete removes what the list lacks, in the directories it covers, but never what matches an exclude.</summary>
        [Theory]
        [MemberData(nameof(Protocols))]
        public void Delete_removes_extras_and_keeps_excluded_ones(int protocol)
        {
            Directory.CreateDirectory(Path.Combine(_src, "d"));
            File.WriteAllText(Path.Combine(_src, "keep"), "k");
            File.WriteAllText(Path.Combine(_src, "d", "keep"), "k");
            Directory.CreateDirectory(Path.Combine(_dst, "old dir", "x"));
            File.WriteAllText(Path.Combine(_dst, "old dir", "x", "f"), "f");
            Directory.CreateDirectory(Path.Combine(_dst, "d", "cache"));
            File.WriteAllText(Path.Combine(_dst, "d", "cache", "c"), "excluded directory");
            File.WriteAllText(Path.Combine(_dst, "stray"), "s");
            File.WriteAllText(Path.Combine(_dst, "d", "stray"), "s");
            File.WriteAllText(Path.Combine(_dst, "scratch.tmp"), "t");
            File.WriteAllText(Path.Combine(_dst, "d", "deep.tmp"), "t");
            Push(protocol, o => { o.Delete = true; o.ProtectFromDelete = new[] { "*.tmp", "cache/" }; });
            var left = PosixTestFs.Walk(_dst).Select(m => m.RelativePath).OrderBy(p => p, StringComparer.Ordinal);
            Assert.Equal(new[] { "d", "d/cache", "d/cache/c", "d/deep.tmp", "d/keep", "keep", "scratch.tmp" }, left);
        }

        [Theory]
        [MemberData(nameof(Protocols))]
        public void Tricky_names_sort_as_the_receiver_sorts_them(int protocol)
        {
            // Every file has its own content: a misordered list would make the receiver take one file's data for another.
            var dirs = new[] { "a", "a/b.d", "a.d", "b", "b/a", "x" + (char)0xDC80, ".hid" };
            var files = new[] { "a.b", "a-b", "a b", "a/b", "a/b.d/c", "a/c", "a.d/z", "ab", "a", "b/a/b", "b/a.", "b/.a", "...", "a..", "-",
                "é", "z" + (char)0xDCFF, "x" + (char)0xDC80 + "/y", "x" + (char)0xDC7F, ".hid/.x", "A", "~", "0" };
            foreach (var d in dirs) PosixTestFs.Mkdir(_src + "/" + d.Replace("a/b.d", "a/b.d"));
            int i = 0;
            foreach (var f in files.Where(f => !dirs.Contains(f)))
                PosixTestFs.WriteFile(_src + "/" + f, Encoding.ASCII.GetBytes($"content #{i++} of this file"));
            Push(protocol);
            Assert.Equal(Sig(_src), Sig(_dst));
        }

        [Theory]
        [MemberData(nameof(Protocols))]
        public void Names_with_every_byte_but_slash_land_byte_exact(int protocol)
        {
            var all = Enumerable.Range(1, 255).Where(b => b != '/').Select(b => (byte)b).ToArray();
            var names = new List<string>();
            for (int off = 0; off < all.Length; off += 64)
                names.Add(PathEncoding.FromBytes(all.Skip(off).Take(64).ToArray()));
            PosixTestFs.Mkdir(_src + "/" + names[0] + "dir");
            int i = 0;
            foreach (var n in names)
            {
                PosixTestFs.WriteFile(_src + "/" + n, Encoding.ASCII.GetBytes($"#{i++}"));
                PosixTestFs.WriteFile(_src + "/" + names[0] + "dir/" + n, Encoding.ASCII.GetBytes($"inner #{i++}"));
            }
            PosixTestFs.Symlink(names[1], _src + "/link");
            Push(protocol);
            Assert.Equal(Sig(_src), Sig(_dst));
            foreach (var n in names) Assert.Contains(n, PosixTestFs.Names(_dst));
        }

        [Theory]
        [MemberData(nameof(Protocols))]
        public void An_insert_in_the_middle_of_a_big_file_sends_little(int protocol)
        {
            var data = new byte[1024 * 1024];
            new Random(protocol).NextBytes(data);
            var path = Path.Combine(_src, "big.bin");
            File.WriteAllBytes(path, data);
            Push(protocol);
            var insert = new byte[1000];
            new Random(99).NextBytes(insert);
            File.WriteAllBytes(path, data.Take(500_000).Concat(insert).Concat(data.Skip(500_000)).ToArray());
            var (outcome, reports) = Push(protocol);
            var r = Assert.Single(reports);
            Assert.True(r.HadBasis);
            Assert.False(r.Redo);
            Assert.True(r.LiteralBytes < 16 * 1024, $"sent {r.LiteralBytes} literal bytes for a 1000-byte insert");
            Assert.True(outcome.BytesSent < 64 * 1024, $"sent {outcome.BytesSent} bytes in all");
            Assert.Equal(Sig(_src), Sig(_dst));
        }

        [Theory]
        [InlineData("xxh128", 31)]
        [InlineData("xxh3", 31)]
        [InlineData("xxh64", 31)]
        [InlineData("md5", 31)]
        [InlineData("md4", 31)]
        [InlineData("xxh3", 30)]
        [InlineData("md5", 30)]
        public void Each_negotiated_checksum_matches_blocks_and_passes_the_whole_file_check(string name, int protocol)
        {
            var data = new byte[300 * 1024 + 17];
            new Random(5).NextBytes(data);
            var path = Path.Combine(_src, "f.bin");
            File.WriteAllBytes(path, data);
            var env = new Dictionary<string, string> { ["RSYNC_CHECKSUM_LIST"] = name };
            Push(protocol, env: env);
            data[100_000] ^= 0xFF;
            File.WriteAllBytes(path, data);
            PosixTestFs.SetMTime(path, 1_800_000_000);
            var (outcome, reports) = Push(protocol, env: env);
            Assert.Equal(name, outcome.Checksum);
            var r = Assert.Single(reports);
            Assert.False(r.Redo); // a wrong whole-file sum would make the receiver ask again
            Assert.True(r.MatchedBytes > 250 * 1024, $"matched only {r.MatchedBytes}: block sums disagree");
            Assert.Equal(Sig(_src), Sig(_dst));
        }

        [Theory]
        [MemberData(nameof(Protocols))]
        public void Ignore_times_catches_a_same_second_same_size_rewrite(int protocol)
        {
            var f = Path.Combine(_src, "same.txt");
            File.WriteAllText(f, "version A, twenty-six b.");
            PosixTestFs.SetMTime(f, 1_700_000_000, 5);
            Push(protocol);
            File.WriteAllText(f, "version B, twenty-six b.");
            PosixTestFs.SetMTime(f, 1_700_000_000, 5);
            var (_, quick) = Push(protocol);
            Assert.Empty(quick);
            var (_, reports) = Push(protocol, o => o.IgnoreTimes = true);
            Assert.True(Assert.Single(reports).LiteralBytes > 0);
            Assert.Equal("version B, twenty-six b.", File.ReadAllText(Path.Combine(_dst, "same.txt")));
        }

        [Theory]
        [MemberData(nameof(Protocols))]
        public void Hard_links_land_as_one_inode(int protocol)
        {
            File.WriteAllText(Path.Combine(_src, "a"), "shared");
            PosixTestFs.Link(Path.Combine(_src, "a"), Path.Combine(_src, "b"));
            Directory.CreateDirectory(Path.Combine(_src, "sub"));
            PosixTestFs.Link(Path.Combine(_src, "a"), Path.Combine(_src, "sub", "c"));
            File.WriteAllText(Path.Combine(_src, "x"), "other group");
            PosixTestFs.Link(Path.Combine(_src, "x"), Path.Combine(_src, "y"));
            File.WriteAllText(Path.Combine(_src, "alone"), "alone");
            // With confirmations, as DeltaPusher pushes: the receiver confirms each name of a group once (a name
            // confirmed twice would be refused as a protocol violation).
            var (outcome, _) = Push(protocol, o => { o.PreserveHardLinks = true; o.ConfirmEachFile = true; });
            Assert.Empty(outcome.Unconfirmed);
            Assert.Equal(Sig(_src), Sig(_dst));
            long Ino(string rel) => PosixTestFs.LStat(Path.Combine(_dst, rel), rel).Inode;
            Assert.Equal(Ino("a"), Ino("b"));
            Assert.Equal(Ino("a"), Ino("sub/c"));
            Assert.Equal(Ino("x"), Ino("y"));
            Assert.NotEqual(Ino("a"), Ino("x"));
            Assert.NotEqual(Ino("a"), Ino("alone"));
        }

        [Theory]
        [MemberData(nameof(Protocols))]
        public void A_vanished_file_is_skipped_and_the_push_completes(int protocol)
        {
            File.WriteAllText(Path.Combine(_src, "gone"), "listed, then deleted");
            File.WriteAllText(Path.Combine(_src, "kept"), "still here");
            var (outcome, reports) = Push(protocol, beforeRead: rel => { if (rel == "gone") File.Delete(Path.Combine(_src, "gone")); });
            var r = Assert.Single(outcome.Replan);
            Assert.Equal(("gone", RsyncReplanReason.Vanished), (r.RelativePath, r.Reason));
            Assert.Equal(new[] { "kept" }, reports.Select(x => x.RelativePath));
            Assert.Equal("still here", File.ReadAllText(Path.Combine(_dst, "kept")));
            Assert.False(File.Exists(Path.Combine(_dst, "gone")));
        }

        /// <summary>As a 3.0/3.1 server meets us: without 'v' no negotiation (MD5 implied) and byte flags; without 'C' the
        /// old MD5 seed order; without 'f' at 30 the io_error goes as MSG_IO_ERROR after the list.</summary>
        [Theory]
        [InlineData(30, "LfxC")]
        [InlineData(30, "Lx")]
        [InlineData(31, "LfxC")]
        [InlineData(31, "")]
        public void Servers_without_varint_flags_get_byte_flags_and_md5(int protocol, string caps)
        {
            var data = new byte[200 * 1024];
            new Random(3).NextBytes(data);
            File.WriteAllBytes(Path.Combine(_src, "f.bin"), data);
            Directory.CreateDirectory(Path.Combine(_src, "dir"));
            File.WriteAllText(Path.Combine(_src, "dir", "x"), "x");
            PosixTestFs.SetMTime(Path.Combine(_src, "dir", "x"), 4_354_819_200, 7);
            File.WriteAllText(Path.Combine(_src, "a"), "shared");
            PosixTestFs.Link(Path.Combine(_src, "a"), Path.Combine(_src, "b"));
            var (outcome, _) = Push(protocol, o => { o.Capabilities = caps; o.PreserveHardLinks = true; });
            Assert.Equal("md5", outcome.Checksum);
            Assert.Equal(Sig(_src), Sig(_dst));
            Assert.Equal(protocol >= 31 ? 7 : 0, PosixTestFs.LStat(Path.Combine(_dst, "dir", "x"), "dir/x").MTimeNanos);

            data[50_000] ^= 1;
            File.WriteAllBytes(Path.Combine(_src, "f.bin"), data);
            PosixTestFs.SetMTime(Path.Combine(_src, "f.bin"), 1_800_000_000);
            var (_, reports) = Push(protocol, o => o.Capabilities = caps);
            var r = Assert.Single(reports);
            Assert.False(r.Redo);
            Assert.True(r.MatchedBytes > 150 * 1024, $"matched only {r.MatchedBytes}: MD5 block sums disagree");
            Assert.Equal(Sig(_src), Sig(_dst));

            // io_error in (or, without 'f' at 30, after) the list: the receiver deletes nothing.
            File.WriteAllText(Path.Combine(_dst, "stray"), "s");
            Push(protocol, o => { o.Capabilities = caps; o.Delete = true; }, expectedExit: 23, ioError: FileListWriter.IoErrorGeneral);
            // Protocol 30 without 'f' (before rsync 3.0.7...) has only MSG_IO_ERROR, which races the receiver's deletions
            // (rsync's own "unsafe" case): the error is known (exit 23) but a deletion may have gone first.
            if (protocol >= 31 || caps.Contains('f')) Assert.True(File.Exists(Path.Combine(_dst, "stray")), "deleted despite io_error");
        }

        /// <summary>A 5 GiB sparse file touched against an equal replica: every block matches, nothing literal goes, and
        /// sizes past 4 GiB travel whole (varlongs from 30, rsync's longint below). In Soak: the receiver writes 5 GiB
        /// each time (about 80 s here; MD4 at 27 is slower).</summary>
        [SoakTheory]
        [InlineData(27)]
        [InlineData(30)]
        [InlineData(31)]
        public void A_touched_5_GiB_sparse_file_sends_no_literal_data(int protocol)
        {
            const long size = 5L << 30;
            var path = Path.Combine(_src, "sparse");
            using (var fs = new FileStream(path, FileMode.CreateNew))
            {
                fs.SetLength(size);
                fs.Write(Encoding.ASCII.GetBytes("head"));
                fs.Position = size / 2;
                fs.Write(Encoding.ASCII.GetBytes("middle"));
                fs.Position = size - 4;
                fs.Write(Encoding.ASCII.GetBytes("tail"));
            }
            using (var cp = Process.Start("cp", new[] { "--sparse=always", "-p", path, Path.Combine(_dst, "sparse") }))
            {
                cp.WaitForExit();
                Assert.Equal(0, cp.ExitCode);
            }
            PosixTestFs.SetMTime(path, 1_800_000_000, 42);
            var (outcome, reports) = Push(protocol);
            var r = Assert.Single(reports);
            Assert.Equal(0, r.LiteralBytes);
            Assert.Equal(size, r.MatchedBytes);
            Assert.False(r.Redo);
            var m = PosixTestFs.LStat(Path.Combine(_dst, "sparse"), "sparse");
            Assert.Equal((size, 1_800_000_000L), (m.Size, m.MTime));
            if (protocol >= 31) Assert.Equal(42, m.MTimeNanos); // nanoseconds travel from 31 on
        }

        [Fact]
        public void Zstd_compression_carries_literals_and_block_references()
        {
            Directory.CreateDirectory(Path.Combine(_src, "d"));
            var text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 40_000).Select(i => $"line {i % 977} of a compressible file\n")));
            File.WriteAllBytes(Path.Combine(_src, "text"), text);
            var random = new byte[700 * 1024];
            new Random(11).NextBytes(random);
            File.WriteAllBytes(Path.Combine(_src, "d", "random"), random);
            for (int i = 0; i < 30; i++) File.WriteAllText(Path.Combine(_src, "d", $"small{i}"), new string((char)('a' + i % 26), i * 37));
            var (first, _) = Push(31, o => o.Compress = true);
            Assert.Equal("zstd", first.Compression);
            Assert.Equal(Sig(_src), Sig(_dst));
            Assert.True(first.BytesSent < random.Length + text.Length / 4, $"sent {first.BytesSent} bytes: the text did not shrink");

            // Changes in both big files: literals and runs of block references interleave.
            random[1000] ^= 1; random[400_000] ^= 1;
            File.WriteAllBytes(Path.Combine(_src, "d", "random"), random);
            PosixTestFs.SetMTime(Path.Combine(_src, "d", "random"), 1_800_000_000);
            text[text.Length / 2] = (byte)'#';
            File.WriteAllBytes(Path.Combine(_src, "text"), text);
            PosixTestFs.SetMTime(Path.Combine(_src, "text"), 1_800_000_000);
            var (second, reports) = Push(31, o => o.Compress = true);
            Assert.Equal(2, reports.Count);
            Assert.All(reports, r => Assert.False(r.Redo));
            Assert.All(reports, r => Assert.True(r.MatchedBytes > r.LiteralBytes * 10, $"{r.RelativePath}: matched {r.MatchedBytes}, literal {r.LiteralBytes}"));
            Assert.True(second.BytesSent < 64 * 1024, $"sent {second.BytesSent} bytes");
            Assert.Equal(Sig(_src), Sig(_dst));
        }

        [Fact]
        public void Compression_falls_back_to_none_without_zstd_and_is_refused_below_30()
        {
            File.WriteAllText(Path.Combine(_src, "f"), "plain");
            var (outcome, _) = Push(31, o => o.Compress = true, env: new Dictionary<string, string> { ["RSYNC_COMPRESS_LIST"] = "zlibx none" });
            Assert.Equal("none", outcome.Compression);
            Assert.Equal(Sig(_src), Sig(_dst));

            var options = new RsyncPushOptions { ServerProtocol = 29, Compress = true };
            using var server = LocalRsyncServer.Start(options, _dst);
            var sender = new RsyncSender(server.StandardOutput.BaseStream, server.StandardInput.BaseStream, options);
            var e = Assert.Throws<NotSupportedException>(() => sender.Push(new TestSource(_src), PosixTestFs.Walk(_src), true, 0, null, default));
            Assert.Contains("zlib", e.Message);
            server.Kill();
        }

        /// <summary>
        /// The sender never reads a token stream (only the receiver decodes one), so a corrupt one can only be ours gone
        /// wrong on the way: the receiver's zstd refuses it and exits, and the push ends with an error, not a hang.
        /// </summary>
        [Fact]
        public void A_corrupt_compressed_token_stream_ends_the_push_with_the_receivers_error()
        {
            var text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 20_000).Select(i => $"line {i % 613} of compressible text\n")));
            File.WriteAllBytes(Path.Combine(_src, "text"), text);
            var options = new RsyncPushOptions { ServerProtocol = 31, Compress = true };
            using var server = LocalRsyncServer.Start(options, _dst);
            var stderr = server.StandardError.ReadToEndAsync();
            var toServer = new CorruptingStream(server.StandardInput.BaseStream, ZstdMagic);
            var sender = new RsyncSender(server.StandardOutput.BaseStream, toServer, options) { ServerName = "local rsync" };
            var run = System.Threading.Tasks.Task.Run(() => sender.Push(new TestSource(_src), PosixTestFs.Walk(_src), true, 0, null, default));
            Assert.True(((IAsyncResult)run).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "the sender hung");
            Assert.True(toServer.Corrupted, "no zstd frame went out");
            var e = Assert.IsAssignableFrom<IOException>(run.Exception?.InnerException);
            Assert.Contains("closed the connection", e.Message);
            Assert.True(server.WaitForExit(10000));
            // 12, "error in rsync protocol data stream": rsync's receiver dies on the bad frame (3.5.0 says no more), and
            // DeltaPusher quotes this stderr after "ended the session".
            Assert.True(server.ExitCode == 12, $"exit {server.ExitCode}: {stderr.Result}");
            Assert.Contains("error in rsync protocol data stream", stderr.Result);
            Assert.False(File.Exists(Path.Combine(_dst, "text")));
        }

        private static readonly byte[] ZstdMagic = { 0x28, 0xB5, 0x2F, 0xFD };

        /// <summary>Passes writes through, but the first time <paramref name="marker"/> goes out in one write, it goes as zeros.</summary>
        private sealed class CorruptingStream : Stream
        {
            private readonly Stream _inner;
            private readonly byte[] _marker;
            public bool Corrupted { get; private set; }
            public CorruptingStream(Stream inner, byte[] marker) { _inner = inner; _marker = marker; }

            public override void Write(byte[] buffer, int offset, int count)
            {
                if (!Corrupted)
                {
                    int at = buffer.AsSpan(offset, count).IndexOf(_marker);
                    if (at >= 0)
                    {
                        buffer = buffer.AsSpan(offset, count).ToArray();
                        offset = 0;
                        Array.Clear(buffer, at, _marker.Length);
                        Corrupted = true;
                    }
                }
                _inner.Write(buffer, offset, count);
            }

            public override void Flush() => _inner.Flush();
            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            protected override void Dispose(bool disposing) { if (disposing) _inner.Dispose(); base.Dispose(disposing); }
        }

        [Theory]
        [MemberData(nameof(Protocols))]
        public void Devices_fifos_and_sockets_land_as_such(int protocol)
        {
            if (!PosixTestFs.IsRoot) return;
            PosixTestFs.MkCharDevice(Path.Combine(_src, "null-ish"), 1, 3);
            // Protocol 27 carries rdev as one signed int32 that the receiver sign-extends: minors from 0x80000 cannot go.
            uint minor = protocol < 28 ? 0x7BCDEu : 0xABCDEu;
            PosixTestFs.MkCharDevice(Path.Combine(_src, "wide"), 0x123, minor);
            PosixTestFs.MkFifo(Path.Combine(_src, "pipe"));
            PosixTestFs.MkSocket(Path.Combine(_src, "sock"));
            Push(protocol, o => o.PreserveSpecials = true);
            Assert.Equal(Sig(_src), Sig(_dst));
            var wide = PosixTestFs.LStat(Path.Combine(_dst, "wide"), "wide");
            Assert.Equal((EntryKind.CharDevice, (long)PosixTestFs.MakeDev(0x123, minor)), (wide.Kind, wide.DeviceNumber));
            Assert.Equal(EntryKind.Socket, PosixTestFs.LStat(Path.Combine(_dst, "sock"), "sock").Kind);
        }
    }
}
