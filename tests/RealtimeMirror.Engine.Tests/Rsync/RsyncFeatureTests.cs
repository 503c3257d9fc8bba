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
    /// <summary>Protocol features against the real `rsync --server` over pipes: -I, ids, raw names, specials, io_error, -H, and a hostile or noisy server.</summary>
    public class RsyncFeatureTests : IDisposable
    {
        private readonly string _src = Directory.CreateTempSubdirectory("rtm-rf-src-").FullName;
        private readonly string _dst = Directory.CreateTempSubdirectory("rtm-rf-dst-").FullName;
        // rm, not Directory.Delete: .NET cannot name entries whose names are not UTF-8.
        public void Dispose() => Process.Start("rm", new[] { "-rf", _src, _dst }).WaitForExit();

        private (RsyncPushOutcome Outcome, List<RsyncFileReport> Reports) Push(Action<RsyncPushOptions> configure = null, bool delete = false,
            int ioError = 0, Action<string> beforeRead = null, IReadOnlyList<FileMeta> entries = null, int expectedExit = 0)
        {
            var options = new RsyncPushOptions { Delete = delete };
            configure?.Invoke(options);
            using var server = LocalRsyncServer.Start(options, _dst);
            var sender = new RsyncSender(server.StandardOutput.BaseStream, server.StandardInput.BaseStream, options) { ServerName = "local rsync", BeforeRead = beforeRead };
            var reports = new List<RsyncFileReport>();
            var stderr = server.StandardError.ReadToEndAsync();
            // The product's confined reader: its answers for links, fifos and vanished files are what the sender must handle.
            using var root = DirectoryHandle.Open(_src);
            var outcome = sender.Push(new DirectoryHandleSource(root), entries ?? PosixTestFs.Walk(_src), wholeTree: true, ioError, reports.Add, default);
            server.StandardInput.Close();
            Assert.True(server.WaitForExit(20000), "rsync --server did not exit");
            Assert.True(server.ExitCode == expectedExit, $"rsync exit {server.ExitCode}: {stderr.Result} {string.Join(" | ", outcome.ServerMessages)}");
            return (outcome, reports);
        }

        private static string Sig(string root, bool owners = false) => RsyncSenderTests.Signature(root, owners);

        [Fact]
        public void Ignore_times_sends_a_same_size_rewrite_within_the_same_second()
        {
            var f = Path.Combine(_src, "same.txt");
            File.WriteAllText(f, "version A, twenty-six b.");
            PosixTestFs.SetMTime(f, 1_700_000_000);
            Push();
            File.WriteAllText(f, "version B, twenty-six b.");
            PosixTestFs.SetMTime(f, 1_700_000_000);

            var (_, quick) = Push();
            Assert.Empty(quick); // size and mtime match: a plain receiver does not even ask
            Assert.Equal("version A, twenty-six b.", File.ReadAllText(Path.Combine(_dst, "same.txt")));

            var (_, reports) = Push(o => o.IgnoreTimes = true);
            var r = Assert.Single(reports);
            Assert.True(r.HadBasis);
            Assert.True(r.LiteralBytes > 0);
            Assert.Equal("version B, twenty-six b.", File.ReadAllText(Path.Combine(_dst, "same.txt")));
        }

        [Fact]
        public void Owner_and_group_above_two_billion_land_exactly()
        {
            if (!PosixTestFs.IsRoot) return; // chown needs root on both sides
            var f = Path.Combine(_src, "big-ids");
            File.WriteAllText(f, "x");
            PosixTestFs.Chown(f, 3_000_000_000, 3_000_000_001);
            Directory.CreateDirectory(Path.Combine(_src, "d"));
            PosixTestFs.Chown(Path.Combine(_src, "d"), 4_294_967_294, 3_000_000_000);
            Push(o => { o.PreserveOwner = true; o.PreserveGroup = true; });
            var m = PosixTestFs.LStat(Path.Combine(_dst, "big-ids"), "big-ids");
            Assert.Equal((3_000_000_000L, 3_000_000_001L), (m.Uid, m.Gid));
            var d = PosixTestFs.LStat(Path.Combine(_dst, "d"), "d");
            Assert.Equal((4_294_967_294L, 3_000_000_000L), (d.Uid, d.Gid));
        }

        [Fact]
        public void Unknown_owner_is_sent_as_ourselves_never_as_root_by_accident()
        {
            if (!PosixTestFs.IsRoot) return;
            File.WriteAllText(Path.Combine(_src, "f"), "x");
            var listed = PosixTestFs.Walk(_src).Select(m => new FileMeta(m.RelativePath, m.Kind, m.Size, m.MTime, m.Mode, -1, -1, m.LinkTarget)).ToList();
            PosixTestFs.WriteFile(Path.Combine(_dst, "f"), Encoding.ASCII.GetBytes("x"));
            PosixTestFs.Chown(Path.Combine(_dst, "f"), 1234, 1234);
            Push(o => { o.PreserveOwner = true; o.PreserveGroup = true; }, entries: listed);
            var m = PosixTestFs.LStat(Path.Combine(_dst, "f"), "f");
            Assert.Equal((0L, 0L), (m.Uid, m.Gid)); // we run as root here: euid 0 is what "ourselves" means
        }

        [Fact]
        public void Names_and_link_targets_that_are_not_utf8_land_byte_exact()
        {
            string cafe = "caf" + (char)0xDCE9, ff = (char)0xDCFF + " dir";
            PosixTestFs.Mkdir(Path.Combine(_src, ff));
            PosixTestFs.WriteFile(_src + "/" + cafe, Encoding.ASCII.GetBytes("latin-1 name"));
            PosixTestFs.WriteFile(_src + "/" + ff + "/" + cafe, Encoding.ASCII.GetBytes("inside"));
            PosixTestFs.Symlink(ff + "/" + cafe, _src + "/link-" + cafe);
            PosixTestFs.Symlink("dangling-" + (char)0xDCFF, _src + "/dangling");
            Push();
            Assert.Equal(Sig(_src), Sig(_dst));
            Assert.Contains(cafe, PosixTestFs.Names(_dst));
            Assert.Equal(ff + "/" + cafe, PosixTestFs.ReadLink(_dst + "/link-" + cafe));
            Assert.Equal(new byte[] { 0x64, 0x61, 0x6E, 0x67, 0x6C, 0x69, 0x6E, 0x67, 0x2D, 0xFF }, PathEncoding.ToBytes(PosixTestFs.ReadLink(_dst + "/dangling")));
        }

        [Fact]
        public void Fifo_socket_and_char_device_land_as_such()
        {
            PosixTestFs.MkFifo(Path.Combine(_src, "pipe"));
            PosixTestFs.MkSocket(Path.Combine(_src, "sock")); // a bound .NET socket unlinks its node on close
            Assert.Equal(EntryKind.Socket, PosixTestFs.LStat(Path.Combine(_src, "sock"), "sock").Kind);
            if (PosixTestFs.IsRoot) PosixTestFs.MkCharDevice(Path.Combine(_src, "null-ish"), 1, 3);
            File.WriteAllText(Path.Combine(_src, "plain"), "p");
            Push(o => o.PreserveSpecials = true);
            Assert.Equal(Sig(_src), Sig(_dst));
            Assert.Equal(EntryKind.Fifo, PosixTestFs.LStat(Path.Combine(_dst, "pipe"), "pipe").Kind);
            Assert.Equal(EntryKind.Socket, PosixTestFs.LStat(Path.Combine(_dst, "sock"), "sock").Kind);
            if (PosixTestFs.IsRoot)
            {
                var dev = PosixTestFs.LStat(Path.Combine(_dst, "null-ish"), "null-ish");
                Assert.Equal((EntryKind.CharDevice, (long)PosixTestFs.MakeDev(1, 3)), (dev.Kind, dev.DeviceNumber));
            }
        }

        [Fact]
        public void Device_numbers_are_packed_the_way_a_protocol_27_receiver_unpacks_them()
        {
            Assert.Equal(0x103, FileListWriter.OldDevT((long)PosixTestFs.MakeDev(1, 3)));
            Assert.Equal(unchecked((int)0xABC123DE), FileListWriter.OldDevT((long)PosixTestFs.MakeDev(0x123, 0xABCDE)));
        }

        [Fact]
        public void Hard_links_land_as_one_inode()
        {
            File.WriteAllText(Path.Combine(_src, "a"), "shared");
            PosixTestFs.Link(Path.Combine(_src, "a"), Path.Combine(_src, "b"));
            File.WriteAllText(Path.Combine(_src, "c"), "alone");
            Push(o => o.PreserveHardLinks = true);
            Assert.Equal(Sig(_src), Sig(_dst));
            Assert.Equal(PosixTestFs.LStat(Path.Combine(_dst, "a"), "a").Inode, PosixTestFs.LStat(Path.Combine(_dst, "b"), "b").Inode);
            Assert.NotEqual(PosixTestFs.LStat(Path.Combine(_dst, "a"), "a").Inode, PosixTestFs.LStat(Path.Combine(_dst, "c"), "c").Inode);
        }

        [Theory]
        [InlineData("symlink")]
        [InlineData("fifo")]
        [InlineData("gone")]
        public void A_file_replaced_after_listing_is_reported_not_hung_on(string by)
        {
            File.WriteAllText(Path.Combine(_src, "victim"), "regular at listing time");
            File.WriteAllText(Path.Combine(_src, "other"), "unharmed");
            var listed = PosixTestFs.Walk(_src);
            var (outcome, reports) = Push(entries: listed, beforeRead: rel =>
            {
                if (rel != "victim") return;
                var p = Path.Combine(_src, "victim");
                File.Delete(p);
                if (by == "symlink") File.CreateSymbolicLink(p, "other");
                if (by == "fifo") PosixTestFs.MkFifo(p);
            });
            var r = Assert.Single(outcome.Replan);
            Assert.Equal(("victim", by == "gone" ? RsyncReplanReason.Vanished : RsyncReplanReason.KindChanged), (r.RelativePath, r.Reason));
            Assert.Equal(new[] { "other" }, reports.Select(x => x.RelativePath));
            Assert.Equal("unharmed", File.ReadAllText(Path.Combine(_dst, "other")));
        }

        [Fact]
        public void A_file_chmodded_between_listing_and_sending_is_planned_again()
        {
            var f = Path.Combine(_src, "secret");
            File.WriteAllText(f, "for the owner only");
            File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            var listed = PosixTestFs.Walk(_src); // 0644 on the list the receiver gets
            var (outcome, _) = Push(o => o.PreservePerms = true, entries: listed,
                beforeRead: rel => File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.UserWrite));
            // The receiver applied the listed 0644; only a new plan gives the replica the 0600 the owner asked for.
            var r = Assert.Single(outcome.Replan);
            Assert.Equal(("secret", RsyncReplanReason.Changed), (r.RelativePath, r.Reason));
        }

        [Fact]
        public void A_login_shell_banner_gives_a_clear_error()
        {
            var options = new RsyncPushOptions();
            var args = string.Join(" ", RsyncServerCommand.ServerArgs(options, _dst).Select(a => RsyncServerCommand.ShellQuote(a)));
            var psi = new ProcessStartInfo("sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("echo 'Welcome to the backup box!'; exec " + args);
            using var server = Process.Start(psi);
            var sender = new RsyncSender(server.StandardOutput.BaseStream, server.StandardInput.BaseStream, options) { ServerName = "backup-host" };
            var e = Assert.Throws<InvalidDataException>(() => sender.Push(new TestSource(_src), new List<FileMeta>(), true, 0, null, default));
            Assert.Contains("login shell on backup-host printed text before rsync started (\"Welcome to the backup box!\")", e.Message);
            Assert.Contains("quiet for non-interactive sessions", e.Message);
            server.Kill();
        }

        /// <summary>A scripted protocol-27 server: raw version and seed, then multiplexed data frames.</summary>
        private static Stream FakeServer(params int[] data)
        {
            var ms = new MemoryStream();
            ms.Write(BitConverter.GetBytes(27));
            ms.Write(BitConverter.GetBytes(12345));
            ms.Write(BitConverter.GetBytes((7 << 24) | data.Length * 4));
            foreach (var d in data) ms.Write(BitConverter.GetBytes(d));
            ms.Position = 0;
            return ms;
        }

        [Theory]
        [InlineData(new[] { 0, 1, 1 << 30, 16, 0 }, "checksum header")]   // block far too long
        [InlineData(new[] { 0, 1, 700, 17, 0 }, "checksum header")]        // strong sum longer than MD4
        [InlineData(new[] { 0, -5, 700, 16, 0 }, "checksum header")]       // negative count
        [InlineData(new[] { 0, 1 << 28, 700, 16, 0 }, "checksum header")]  // count past any real file
        [InlineData(new[] { 0, 2, 700, 16, 900 }, "checksum header")]      // remainder past the block
        [InlineData(new[] { 0, 5000, 700, 16, 0 }, "checksum header")]     // more 700-byte blocks than a stock receiver makes (3.5 MB: 1864-byte blocks)
        [InlineData(new[] { 0, 1 << 20, 8192, 16, 0 }, "checksum header")] // 8 GiB in 8 KiB blocks: a stock receiver uses 90 KiB
        [InlineData(new[] { 0, 0, 700, 16, 5 }, "checksum header")]        // no blocks, yet a remainder
        [InlineData(new[] { 7, 0, 0, 0, 0 }, "asked for entry #7")]        // index past the list
        [InlineData(new[] { 1, 0, 0, 0, 0 }, "asked for entry #1")]        // index of a directory
        public void Hostile_server_input_is_refused(int[] script, string expected)
        {
            Directory.CreateDirectory(Path.Combine(_src, "dir"));
            File.WriteAllText(Path.Combine(_src, "a"), "a");
            var entries = PosixTestFs.Walk(_src);
            var sender = new RsyncSender(FakeServer(script), new MemoryStream(), new RsyncPushOptions());
            var e = Assert.Throws<InvalidDataException>(() => sender.Push(new TestSource(_src), entries, false, 0, null, default));
            Assert.Contains(expected, e.Message);
        }

        /// <summary>A frame header: tag <paramref name="code"/> (0 data), <paramref name="length"/> bytes claimed.</summary>
        private static byte[] Frame(int code, int length) => BitConverter.GetBytes(((7 + code) << 24) | length);

        /// <summary>A scripted protocol-27 server: raw version and seed, then exactly the bytes given (frames and all).</summary>
        private static Stream RawServer(int version, params byte[][] parts)
        {
            var ms = new MemoryStream();
            ms.Write(BitConverter.GetBytes(version));
            ms.Write(BitConverter.GetBytes(12345));
            foreach (var p in parts) ms.Write(p);
            ms.Position = 0;
            return ms;
        }

        private static byte[] Data(params int[] v) => Frame(0, v.Length * 4).Concat(Ints(v)).ToArray();

        public static IEnumerable<object[]> HostileMessages => new[]
        {
            // MSG_SUCCESS naming an entry past the list, and one confirmed twice.
            new object[] { new[] { Frame(100, 4), Ints(7) }, "confirmed entry #7, but only 2 were listed" },
            new object[] { new[] { Frame(100, 4), Ints(-1) }, "confirmed entry #-1" },
            new object[] { new[] { Frame(100, 4), Ints(0), Frame(100, 4), Ints(0) }, "confirmed entry #0 twice" },
            // Lengths a message never has.
            new object[] { new[] { Frame(100, 3), new byte[3] }, "MSG_SUCCESS of 3 bytes" },
            new object[] { new[] { Frame(102, 8), new byte[8] }, "MSG_NO_SEND of 8 bytes" },
            new object[] { new[] { Frame(22, 2), new byte[2] }, "MSG_IO_ERROR of 2 bytes" },
            new object[] { new[] { Frame(42, 4), new byte[4] }, "MSG_NOOP of 4 bytes" },
            new object[] { new[] { Frame(86, 9), new byte[9] }, "MSG_ERROR_EXIT of 9 bytes" },
            new object[] { new[] { Frame(3, 0xFFFFFF) }, "a log message (tag 3) of 16777215 bytes" },          // no log line is that long
            new object[] { new[] { Frame(101, 6000), new byte[6000] }, "MSG_DELETED of 6000 bytes" },
            // Tags no receiver sends its sender: unknown ones, and the generator's own (MSG_REDO, MSG_LOG).
            new object[] { new[] { Frame(55, 0) }, "tag 55" },
            new object[] { new[] { Frame(9, 4), new byte[4] }, "tag 9" },
            new object[] { new[] { Frame(6, 5), new byte[5] }, "tag 6" },
        };

        /// <summary>Each breaks rsync's message rules after a well-formed start: the push ends at once with an error naming it.</summary>
        [Theory]
        [MemberData(nameof(HostileMessages))]
        public void Hostile_messages_end_the_push_with_a_clear_error(byte[][] frames, string expected)
        {
            Directory.CreateDirectory(Path.Combine(_src, "dir"));
            File.WriteAllText(Path.Combine(_src, "a"), "a");
            var entries = PosixTestFs.Walk(_src);
            // The server asks for "a" (entry 0) after the messages, or would if they were fine: the error comes first.
            var sender = new RsyncSender(RawServer(27, frames.Append(Data(0, 0, 0, 0, 0)).ToArray()), new MemoryStream(), new RsyncPushOptions());
            var e = Assert.Throws<InvalidDataException>(() => sender.Push(new TestSource(_src), entries, false, 0, null, default));
            Assert.Contains(expected, e.Message);
        }

        public static IEnumerable<object[]> CutShort => new[]
        {
            new object[] { new[] { Data(0, 1, 700) } },                      // in the middle of a checksum header
            new object[] { new[] { Frame(0, 20), Ints(0, 1, 700) } },         // in the middle of a frame
            new object[] { new[] { Frame(0, 0xFFFFFF), Ints(0, 1, 700) } },   // a frame claiming 16 MiB, past any real one
            new object[] { new[] { Frame(0, 4) } },                           // after a frame header
            new object[] { new[] { new byte[] { 0x01, 0x00 } } },             // in the middle of a frame header
            new object[] { new[] { Data(0, 1, 700, 16, 0), new byte[] { 1, 2, 3 } } }, // in the middle of the block sums
        };

        /// <summary>A connection that ends anywhere in the exchange is an error that says so, never a wait for more.</summary>
        [Theory]
        [MemberData(nameof(CutShort))]
        public void A_stream_cut_short_anywhere_is_a_clear_error(byte[][] parts)
        {
            File.WriteAllText(Path.Combine(_src, "a"), "a");
            var sender = new RsyncSender(RawServer(27, parts), new MemoryStream(), new RsyncPushOptions());
            var run = System.Threading.Tasks.Task.Run(() => sender.Push(new TestSource(_src), PosixTestFs.Walk(_src), false, 0, null, default));
            Assert.True(((IAsyncResult)run).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10)), "the sender hung");
            var e = Assert.IsType<EndOfStreamException>(run.Exception?.InnerException);
            Assert.Contains("closed the connection", e.Message);
        }

        [Theory]
        [InlineData(26)]
        [InlineData(20)]
        public void A_server_older_than_protocol_27_is_refused_by_name(int version)
        {
            File.WriteAllText(Path.Combine(_src, "a"), "a");
            var sender = new RsyncSender(RawServer(version), new MemoryStream(), new RsyncPushOptions()) { ServerName = "old-host" };
            var e = Assert.Throws<NotSupportedException>(() => sender.Push(new TestSource(_src), PosixTestFs.Walk(_src), false, 0, null, default));
            Assert.Contains($"The rsync on old-host speaks protocol {version}; at least 27 is needed", e.Message);
        }

        /// <summary>A scripted protocol-31 server: version, compat flags, (with varint flags) its checksum list, seed, then one data frame.</summary>
        private static Stream FakeServer31(byte[] compat, string checksums, byte[] data)
        {
            var ms = new MemoryStream();
            ms.Write(BitConverter.GetBytes(31));
            ms.Write(compat);
            if (checksums != null)
            {
                var b = Encoding.ASCII.GetBytes(checksums);
                if (b.Length > 0x7F) ms.WriteByte((byte)(b.Length / 0x100 + 0x80));
                ms.WriteByte((byte)b.Length);
                ms.Write(b);
            }
            ms.Write(BitConverter.GetBytes(12345));
            ms.Write(BitConverter.GetBytes((7 << 24) | data.Length));
            ms.Write(data);
            ms.Position = 0;
            return ms;
        }

        [Theory]
        [InlineData("md5 xxh3 md4", "md5 xxh3 md4")]                    // a server that ranks md5 first: answered in its order
        [InlineData("sha1 xxh128 xxh3 xxh64 md5 md4", "xxh128 xxh3 xxh64 md5 md4")] // a name we lack is left out
        public void Checksum_choices_are_answered_in_the_servers_order(string offered, string answered)
        {
            File.WriteAllText(Path.Combine(_src, "a"), "a");
            var sent = new MemoryStream();
            var sender = new RsyncSender(FakeServer31(new byte[] { 0x80, 0x80 }, offered, new byte[0]), sent, new RsyncPushOptions());
            Assert.ThrowsAny<Exception>(() => sender.Push(new TestSource(_src), PosixTestFs.Walk(_src), false, 0, null, default));
            var bytes = sent.ToArray();
            Assert.Equal(31, BitConverter.ToInt32(bytes, 0));
            Assert.Equal(answered, Encoding.ASCII.GetString(bytes, 5, bytes[4]));
        }

        private static byte[] Ints(params int[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

        public static IEnumerable<object[]> Hostile31 => new[]
        {
            new object[] { new byte[] { 0x80, 0x81 }, "xxh128", new byte[0], "incremental recursion" },                    // inc-recurse not offered
            new object[] { new byte[] { 0xFF, 0, 0, 0, 0, 0, 0 }, null, new byte[0], "Overlong number" },                  // compat flags varint too wide
            new object[] { new byte[] { 0x80, 0x80 }, "sha1 none", new byte[0], "offers no checksum" },                    // nothing in common
            new object[] { new byte[] { 0x80, 0x80 }, new string('x', 1025), new byte[0], "checksum list of 1025 bytes" },  // list past any real one
            new object[] { new byte[] { 0x80, 0x80 }, "xxh3", new byte[] { 1, 0, 0x80 }.Concat(Ints(1, 700, 9, 0)).ToArray(), "checksum header" },        // strong sum longer than xxh3's 8
            new object[] { new byte[] { 0x80, 0x80 }, "xxh128", new byte[] { 1, 0, 0x80 }.Concat(Ints(3, 256 * 1024, 16, 0)).ToArray(), "checksum header" }, // block over 128 KiB
            new object[] { new byte[] { 0x80, 0x80 }, "xxh128", new byte[] { 8, 0, 0x80 }, "asked for entry #7" },          // index past the list
            new object[] { new byte[] { 0x80, 0x80 }, "xxh128", new byte[] { 2, 0, 0x80 }, "asked for entry #1" },          // index of a directory
            new object[] { new byte[] { 0x80, 0x80 }, "xxh128", new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0xFF }, "asked for entry #2147483647" }, // the largest index the encoding holds
            new object[] { new byte[] { 0x80, 0x80 }, "xxh128", new byte[] { 0xFF, 0x03 }, "asked for entry #-4" },         // unknown negative index
        };

        [Theory]
        [MemberData(nameof(Hostile31))]
        public void Hostile_protocol_31_server_input_is_refused(byte[] compat, string checksums, byte[] data, string expected)
        {
            Directory.CreateDirectory(Path.Combine(_src, "dir"));
            File.WriteAllText(Path.Combine(_src, "a"), "a");
            var entries = PosixTestFs.Walk(_src);
            var sender = new RsyncSender(FakeServer31(compat, checksums, data), new MemoryStream(), new RsyncPushOptions());
            var e = Assert.ThrowsAny<Exception>(() => sender.Push(new TestSource(_src), entries, false, 0, null, default));
            Assert.True(e is InvalidDataException || e is NotSupportedException, e.ToString());
            Assert.Contains(expected, e.Message);
        }

        /// <summary>
        /// Protocol 31's goodbye: after the last phase the receiver sends NDX_DONE, we answer NDX_DONE, and it sends NDX_DONE
        /// once more. Without that last word the push is not done (the receiver may still fail); another word is refused.
        /// </summary>
        [Theory]
        [InlineData(new byte[] { 0, 0, 0, 0, 0 }, null)]                                     // three phases, the goodbye and its answer
        [InlineData(new byte[] { 0, 0, 0, 0 }, "closed the connection")]                     // gone before its last NDX_DONE
        [InlineData(new byte[] { 0, 0, 0, 0, 1, 0, 0x80 }, "sent #0 where the end of the session was due")] // an entry instead
        public void The_protocol_31_goodbye_is_answered_and_its_last_word_awaited(byte[] ndxs, string expected)
        {
            File.WriteAllText(Path.Combine(_src, "a"), "a");
            var sent = new MemoryStream();
            var sender = new RsyncSender(FakeServer31(new byte[] { 0x80, 0x80 }, "xxh128", ndxs), sent, new RsyncPushOptions());
            var push = System.Threading.Tasks.Task.Run(() => sender.Push(new TestSource(_src), PosixTestFs.Walk(_src), false, 0, null, default));
            Assert.True(((IAsyncResult)push).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10)), "the sender hung");
            if (expected == null)
            {
                Assert.Null(push.Exception);
                Assert.Equal(31, push.Result.Protocol);
                // Our side ends with four NDX_DONEs (one zero byte from protocol 30), each flushed in a data frame of its
                // own: the ends of phases 0 and 1, the end of the transfer, and the answer to the goodbye.
                var bytes = sent.ToArray();
                var doneFrame = Frame(0, 1).Append((byte)0).ToArray();
                Assert.Equal(Enumerable.Repeat(doneFrame, 4).SelectMany(f => f).ToArray(), bytes.Skip(bytes.Length - 20).ToArray());
            }
            else Assert.Contains(expected, push.Exception?.InnerException?.Message ?? "no error");
        }
    }
}
