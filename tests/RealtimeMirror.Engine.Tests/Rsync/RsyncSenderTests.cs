using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Transport.Rsync;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Rsync
{
    /// <summary>Pushes with our protocol-27 sender to the real `rsync --server` over pipes, then compares trees.</summary>
    public class RsyncSenderTests : IDisposable
    {
        private readonly string _src = Directory.CreateTempSubdirectory("rtm-rs-src-").FullName;
        private readonly string _dst = Directory.CreateTempSubdirectory("rtm-rs-dst-").FullName;
        public void Dispose() { Directory.Delete(_src, true); Directory.Delete(_dst, true); }

        private (RsyncPushOutcome Outcome, List<RsyncFileReport> Reports) Push(bool delete = false, Action<RsyncSender> tweak = null,
            IReadOnlyList<string> protect = null, Action<RsyncPushOptions> configure = null, IReadOnlyList<FileMeta> entries = null,
            int ioError = 0, bool wholeTree = true)
        {
            var options = new RsyncPushOptions { Delete = delete, ProtectFromDelete = protect ?? Array.Empty<string>() };
            configure?.Invoke(options);
            using var server = LocalRsyncServer.Start(options, _dst);
            var sender = new RsyncSender(server.StandardOutput.BaseStream, server.StandardInput.BaseStream, options) { ServerName = "local rsync" };
            tweak?.Invoke(sender);
            var reports = new List<RsyncFileReport>();
            var stderrTask = server.StandardError.ReadToEndAsync();
            var outcome = sender.Push(new TestSource(_src), entries ?? PosixTestFs.Walk(_src), wholeTree, ioError, reports.Add, default);
            server.StandardInput.Close();
            Assert.True(server.WaitForExit(20000), "rsync --server did not exit");
            Assert.True(server.ExitCode == 0, $"rsync exit {server.ExitCode}: {stderrTask.Result} {string.Join(" | ", outcome.ServerMessages)}");
            return (outcome, reports);
        }

        /// <summary>Kind, name, mode, mtime, content hash or link target (as bytes), owner and rdev where asked: one line per entry.</summary>
        internal static string Signature(string root, bool owners = false) => string.Join("\n",
            PosixTestFs.Walk(root).OrderBy(m => Convert.ToHexString(PathEncoding.ToBytes(m.RelativePath)), StringComparer.Ordinal).Select(m =>
                $"{m.Kind} {Convert.ToHexString(PathEncoding.ToBytes(m.RelativePath))} " +
                (m.Kind == EntryKind.Symlink ? "-> " + Convert.ToHexString(PathEncoding.ToBytes(m.LinkTarget))
                    : $"{Convert.ToString(m.Mode, 8)} {m.MTime} rdev={m.DeviceNumber}" +
                      (m.Kind == EntryKind.File ? " " + Convert.ToHexString(SHA256.HashData(PosixTestFs.ReadFile(root + "/" + m.RelativePath))) : "")) +
                (owners ? $" {m.Uid}:{m.Gid}" : "")));

        [Fact]
        public void Md4_known_answers_from_rfc1320()
        {
            string Hex(string s) => Convert.ToHexString(Md4.Hash(Encoding.ASCII.GetBytes(s), 0, s.Length)).ToLowerInvariant();
            Assert.Equal("31d6cfe0d16ae931b73c59d7e0c089c0", Hex(""));
            Assert.Equal("bde52cb31de33e46245e05fbdbd6fb24", Hex("a"));
            Assert.Equal("a448017aaf21d8525fc10ae87aa6729d", Hex("abc"));
            Assert.Equal("d9130a8164549fe818874806e1c7014b", Hex("message digest"));
            Assert.Equal("e33b4ddc9c38f2199c3e7b164fcc0536", Hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"));
        }

        [Fact]
        public void Varints_varlongs_and_indexes_encode_as_rsync_does_and_read_back()
        {
            byte[] Bytes(Action<ServerOutput> write)
            {
                var ms = new MemoryStream();
                var o = new ServerOutput(ms);
                write(o);
                o.Flush();
                return ms.ToArray();
            }
            // Known encodings (rsync's write_varint / write_varlong).
            Assert.Equal(new byte[] { 0x7F }, Bytes(o => o.WriteVarint(0x7F)));
            Assert.Equal(new byte[] { 0x80, 0x80 }, Bytes(o => o.WriteVarint(0x80)));
            Assert.Equal(new byte[] { 0xBF, 0xFF }, Bytes(o => o.WriteVarint(0x3FFF)));
            Assert.Equal(new byte[] { 0xC0, 0x00, 0x40 }, Bytes(o => o.WriteVarint(0x4000)));
            Assert.Equal(new byte[] { 0xF0, 0xFF, 0xFF, 0xFF, 0xFF }, Bytes(o => o.WriteVarint(-1)));
            Assert.Equal(new byte[] { 0x65, 0x00, 0xF1, 0x53 }, Bytes(o => o.WriteVarlong(1_700_000_000, 4)));
            Assert.Equal(new byte[] { 0x00, 0x00, 0x00 }, Bytes(o => o.WriteVarlong(0, 3)));
            // NDX_DONE is one 0; the first index 0 is the difference 1 from -1.
            Assert.Equal(new byte[] { 0x00, 0x01, 0x01, 0xFE, 0x01, 0x00, 0xFE, 0x80, 0x00, 0x00, 0x00 },
                Bytes(o => { o.WriteNdx(-1, 30); o.WriteNdx(0, 30); o.WriteNdx(1, 30); o.WriteNdx(257, 30); o.WriteNdx(0, 30); }));

            var ints = new[] { 0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000, int.MaxValue, -1, int.MinValue, -157_766_400 };
            var longs = new[] { 0L, 1L, 0xFFFFFFL, 0x1000000L, 4_354_819_200L, -157_766_400L, 5L << 30, long.MaxValue, long.MinValue, -1L };
            var ndxs = new[] { 0, 1, 2, 300, 299, 40_000, 5, -3, -1, 7, -101, -102, -3, 1_000_000, int.MaxValue, 0 };
            var data = Bytes(o =>
            {
                foreach (var v in ints) o.WriteVarint(v);
                foreach (var v in longs) { o.WriteVarlong(v, 3); o.WriteVarlong(v, 4); }
                foreach (var v in ndxs) o.WriteNdx(v, 30);
            });
            var frame = new MemoryStream();
            frame.Write(BitConverter.GetBytes((7 << 24) | data.Length));
            frame.Write(data);
            frame.Position = 0;
            using var input = new ServerInput(frame, default);
            input.StartDemultiplexing();
            foreach (var v in ints) Assert.Equal(v, input.ReadVarint("test"));
            foreach (var v in longs) { Assert.Equal(v, input.ReadVarlong(3, "test")); Assert.Equal(v, input.ReadVarlong(4, "test")); }
            foreach (var v in ndxs) Assert.Equal(v, input.ReadNdx(30));
        }

        [Fact]
        public void File_list_order_from_protocol_29_puts_files_before_directories_and_ancestors_first()
        {
            FileMeta M(string p, bool dir) => new FileMeta(p, dir ? EntryKind.Directory : EntryKind.File, 0, 0, 0x1A4, 0, 0, null);
            var entries = new[] { M("a", true), M("a.b", false), M("a-b", false), M("a/b", false), M("a/c", true), M("a/c/d", false), M("a/z", false),
                M("b", false), M(".", true), M("a.d", true), M("a.d/x", false) };
            Assert.Equal(new[] { ".", "a-b", "a.b", "b", "a.d", "a.d/x", "a", "a/b", "a/z", "a/c", "a/c/d" },
                FileListWriter.Sort(entries, 31).Select(m => m.RelativePath));
            Assert.Equal(new[] { ".", "a", "a-b", "a.b", "a.d", "a.d/x", "a/b", "a/c", "a/c/d", "a/z", "b" },
                FileListWriter.Sort(entries, 27).Select(m => m.RelativePath));
        }

        [Fact]
        public void Rolling_checksum_equals_a_fresh_computation_at_every_offset()
        {
            var data = new byte[5000];
            new Random(7).NextBytes(data);
            var rc = new RollingChecksum();
            rc.Reset(data, 0, 700);
            for (int i = 1; i + 700 <= data.Length; i++)
            {
                rc.Roll(data[i - 1], data[i + 699]);
                Assert.Equal(RollingChecksum.Compute(data, i, 700), rc.Value);
            }
        }

        [Fact]
        public void Weak_checksum_of_a_window_equals_rsyncs_byte_by_byte_definition_at_every_length()
        {
            // The vectorised sum must give the same bits as rsync's loop for every length (whole 32-byte chunks and
            // tails), for bytes >= 0x80 (summed as signed chars) and for windows long enough to wrap the 32-bit sums.
            var rng = new Random(11);
            var data = new byte[300_000];
            rng.NextBytes(data);
            for (int i = 0; i < 4096; i++) data[i] = 0xFF; // a run of the most negative-heavy byte
            foreach (var (offset, count) in new[] { (0, 0), (3, 1), (0, 31), (1, 32), (5, 33), (7, 64), (0, 4096), (9, 700), (13, 131_072), (0, 300_000) }
                .Concat(Enumerable.Range(0, 200).Select(k => (rng.Next(0, 1000), rng.Next(0, 2000)))))
            {
                uint s1 = 0, s2 = 0;
                for (int i = 0; i < count; i++) { s1 += (uint)(sbyte)data[offset + i]; s2 += s1; }
                Assert.Equal((s1 & 0xffff) | (s2 << 16), RollingChecksum.Compute(data, offset, count));
            }
        }

        [Fact]
        public void First_push_gives_equal_trees_with_awkward_names_modes_times_and_links()
        {
            Directory.CreateDirectory(Path.Combine(_src, "dir one", "-sub"));
            var names = new[] { "plain", "with space", "quote'single", "new\nline", "unicodé-日本", "-leading-dash", "dir one/-sub/deep" };
            int i = 0;
            foreach (var n in names)
            {
                var p = Path.Combine(_src, n);
                File.WriteAllBytes(p, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(n, 100 * ++i))));
                File.SetLastWriteTimeUtc(p, new DateTime(2020, 1, i, 0, 0, 0, DateTimeKind.Utc));
            }
            File.SetUnixFileMode(Path.Combine(_src, "plain"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.SetUnixFileMode(Path.Combine(_src, "with space"), (UnixFileMode)0x1ED);
            File.CreateSymbolicLink(Path.Combine(_src, "link"), "dir one/-sub/deep");
            File.WriteAllBytes(Path.Combine(_src, "empty"), Array.Empty<byte>());

            var (outcome, reports) = Push();
            Assert.Equal(Signature(_src), Signature(_dst));
            Assert.All(reports, r => Assert.False(r.HadBasis));
            Assert.Equal(names.Length + 1, outcome.FilesRequested);
            Assert.Equal(reports.Sum(r => r.LiteralBytes), outcome.LiteralBytes);
            Assert.Empty(outcome.Replan);
        }

        [Fact]
        public void Inserting_in_the_middle_of_a_big_file_sends_little_and_touch_sends_nothing()
        {
            var data = new byte[1024 * 1024];
            new Random(1).NextBytes(data);
            var path = Path.Combine(_src, "big.bin");
            File.WriteAllBytes(path, data);
            Push();

            var insert = new byte[1024];
            new Random(2).NextBytes(insert);
            File.WriteAllBytes(path, data.Take(data.Length / 2).Concat(insert).Concat(data.Skip(data.Length / 2)).ToArray());
            var (_, reports) = Push();
            var r = Assert.Single(reports);
            Assert.True(r.HadBasis);
            Assert.True(r.LiteralBytes < 16 * 1024, $"sent {r.LiteralBytes} literal bytes for a 1 KiB insert");
            Assert.True(r.MatchedBytes > 1000 * 1024);
            Assert.Equal(Signature(_src), Signature(_dst));

            File.SetLastWriteTimeUtc(path, new DateTime(2024, 2, 2, 2, 2, 2, DateTimeKind.Utc));
            (_, reports) = Push();
            Assert.Equal(0, Assert.Single(reports).LiteralBytes);
            Assert.Equal(Signature(_src), Signature(_dst));
        }

        [Fact]
        public void Delete_removes_extras_but_not_protected_ones()
        {
            File.WriteAllText(Path.Combine(_src, "keep"), "k");
            Directory.CreateDirectory(Path.Combine(_dst, "old dir", "x"));
            File.WriteAllText(Path.Combine(_dst, "old dir", "x", "f"), "f");
            File.WriteAllText(Path.Combine(_dst, "stray"), "s");
            File.WriteAllText(Path.Combine(_dst, "scratch.tmp"), "t");
            Push(delete: true, protect: new[] { "*.tmp" });
            Assert.False(Directory.Exists(Path.Combine(_dst, "old dir")));
            Assert.False(File.Exists(Path.Combine(_dst, "stray")));
            Assert.True(File.Exists(Path.Combine(_dst, "scratch.tmp")));
        }

        [Fact]
        public void A_file_changed_after_listing_is_sent_as_opened_and_reported_for_replanning()
        {
            var path = Path.Combine(_src, "moving");
            File.WriteAllText(path, "first version");
            var (outcome, reports) = Push(tweak: s => s.BeforeRead = rel => { File.WriteAllText(path, "second, longer version"); File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(5)); });
            Assert.Single(reports);
            var replan = Assert.Single(outcome.Replan);
            Assert.Equal(("moving", RsyncReplanReason.Changed), (replan.RelativePath, replan.Reason));
            var (again, _) = Push();
            Assert.Empty(again.Replan);
            Assert.Equal("second, longer version", File.ReadAllText(Path.Combine(_dst, "moving")));
        }
    }
}
