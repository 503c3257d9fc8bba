using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// The sending side of rsync protocols 27 to 31, talking to a stock `rsync --server` receiver: version exchange
    /// (the lower of ours and the server's), for 30+ the server's compat flags and the checksum negotiation, the seed,
    /// (with --delete) the filter list, the file list, then for each file the receiver asks for: its block sums in,
    /// tokens and the whole-file sum out; the phases (two below 29, three from 29: the last only tidies up) and the
    /// final goodbye (one more NDX_DONE each way from 31). Everything the server sends is checked before use: it may be
    /// hostile or just not rsync.
    /// </summary>
    public sealed class RsyncSender
    {
        /// <summary>The oldest protocol we speak (what DeltaPusher requires of a host).</summary>
        public const int ProtocolVersion = 27;
        public const int MinProtocol = 27;
        public const int MaxProtocol = 31;

        private const int NdxDone = -1, NdxDelStats = -3;
        private const int ItemBasisTypeFollows = 1 << 11, ItemXnameFollows = 1 << 12, ItemIsNew = 1 << 13, ItemTransfer = 1 << 15;
        private const int CfIncRecurse = 1, CfSafeFlist = 8, CfChksumSeedFix = 32, CfVarintFlistFlags = 128;

        private readonly Stream _fromServer, _toServer;
        private readonly RsyncPushOptions _options;

        public RsyncSender(Stream fromServer, Stream toServer, RsyncPushOptions options)
        {
            _fromServer = fromServer;
            _toServer = toServer;
            _options = options;
        }

        /// <summary>The host (or "local rsync") for messages.</summary>
        public string ServerName { get; set; } = "the replica host";

        /// <summary>Test seam: runs between a file's being requested and its open.</summary>
        internal Action<string> BeforeRead { get; set; }

        /// <summary>
        /// Pushes <paramref name="entries"/> exactly (the caller includes parent directories: see DeltaPusher). With
        /// <paramref name="wholeTree"/> the root itself goes as "." so the receiver can delete extras at the top.
        /// <paramref name="ioError"/> non-zero tells the receiver the listing was incomplete (it then deletes nothing).
        /// </summary>
        public RsyncPushOutcome Push(IRsyncSource source, IReadOnlyList<FileMeta> entries, bool wholeTree, int ioError,
            Action<RsyncFileReport> onFile, CancellationToken cancel)
        {
            var input = new ServerInput(_fromServer, cancel);
            // A server that broke the protocol may also have stopped reading: closing our output unblocks a write to it.
            input.OnViolation = () => _toServer.Dispose();
            var output = new ServerOutput(_toServer);
            var outcome = new RsyncPushOutcome();
            var replan = new ReplanList();
            using (cancel.Register(() => { try { _fromServer.Dispose(); } catch { } try { _toServer.Dispose(); } catch { } }))
            {
                int ours = Math.Clamp(_options.MaxProtocol, MinProtocol, MaxProtocol);
                output.WriteInt(ours);
                output.Flush();
                int remote = input.ReadProtocolVersion(ServerName);
                if (remote < MinProtocol) throw new NotSupportedException($"The rsync on {ServerName} speaks protocol {remote}; at least {MinProtocol} is needed.");
                int protocol = Math.Min(ours, remote);
                var (checksum, varintFlags, safeFlist) = Setup(input, output, protocol, out bool zstd);
                outcome.Compression = zstd ? "zstd" : "none";
                outcome.Protocol = protocol;
                outcome.Checksum = checksum.Kind == RsyncChecksumKind.Md4Old ? "md4" : checksum.Kind.ToString().ToLowerInvariant();
                // Sized before the reader starts: no confirmation can come before the list, and each is checked against it.
                var list = BuildList(source, entries, wholeTree, protocol);
                input.ExpectConfirmations(list.Count);
                input.StartDemultiplexing();
                if (protocol >= 30) output.StartMultiplexing();

                using var tokens = zstd ? new ZstdTokens(output) : null;
                try
                {
                    WriteLists(output, list, ioError, protocol, varintFlags, safeFlist);
                    Transfer(source, onFile, cancel, input, output, outcome, replan, protocol, checksum, list, tokens);
                }
                catch (Exception e) when (input.Violation != null && !(e is InvalidDataException) && !cancel.IsCancellationRequested)
                {
                    // Whatever the closed output threw, the cause is what the server sent: say that.
                    throw new InvalidDataException(input.Violation.Message, input.Violation);
                }
                catch (EndOfStreamException) when (input.ServerErrorExit && protocol >= 31)
                {
                    // Protocol 31 acknowledges the server's error exit with an empty MSG_ERROR_EXIT, then ends.
                    try { output.SendMessage(ServerInput.MsgErrorExit, Array.Empty<byte>()); output.Flush(); } catch (IOException) { }
                    throw;
                }
                input.WaitForEnd(TimeSpan.FromSeconds(2));
            }
            outcome.BytesSent = output.BytesSent;
            outcome.BytesReceived = input.BytesReceived;
            outcome.ServerMessages = input.Messages;
            outcome.Replan = replan.Items;
            return outcome;
        }

        /// <summary>With --delete the filter list (our excludes, which the receiver must not delete), then the file list.</summary>
        private void WriteLists(ServerOutput output, List<FileMeta> list, int ioError, int protocol, bool varintFlags, bool safeFlist)
        {
            if (_options.Delete)
            {
                foreach (var p in _options.ProtectFromDelete) output.WriteName("- " + p);
                output.WriteInt(0);
            }
            FileListWriter.Write(output, list, _options, ioError, protocol, varintFlags, safeFlist);
            output.Flush();
        }

        /// <summary>The file loop, its phases and the goodbye.</summary>
        private void Transfer(IRsyncSource source, Action<RsyncFileReport> onFile, CancellationToken cancel, ServerInput input, ServerOutput output,
            RsyncPushOutcome outcome, ReplanList replan, int protocol, RsyncChecksum checksum, List<FileMeta> list, ZstdTokens tokens)
        {
            var encoder = new DeltaEncoder(output, checksum, cancel, tokens);
            // With confirmations, a file is reported once the receiver says it is in place: held until the goodbye.
            var held = _options.ConfirmEachFile ? new Dictionary<int, RsyncFileReport>() : null;
            input.BeforeWait = output.Flush;
            int phase = 0, maxPhase = protocol >= 29 ? 2 : 1;
            while (true)
            {
                var (ndx, iflags, basisType, xname) = ReadNdxAndAttrs(input, protocol, list.Count);
                if (ndx == NdxDone)
                {
                    if (++phase > maxPhase) break;
                    output.WriteNdx(NdxDone, protocol); // end of this phase for the receiver too
                    output.Flush();
                    continue;
                }
                if ((iflags & ItemTransfer) == 0)
                {
                    // Only an itemized change (a directory's time, a link made): rsync echoes it back.
                    WriteNdxAndAttrs(output, protocol, ndx, iflags, basisType, xname);
                    continue;
                }
                if (phase == 2) throw new InvalidDataException($"The rsync server on {ServerName} asked for entry #{ndx} in the final phase.");
                if (list[ndx].Kind != EntryKind.File)
                    throw new InvalidDataException($"The rsync server on {ServerName} asked for entry #{ndx}, which is not a regular file of the {list.Count} listed.");
                var sums = BlockSums.Read(input, protocol, checksum.DigestLength);
                var report = SendOne(source, ndx, list[ndx], sums, encoder, output, replan,
                    () => WriteNdxAndAttrs(output, protocol, ndx, iflags, basisType, xname));
                if (report == null)
                {
                    // Not sent: from 30 on the receiver is told so (else it waits for it); below, it just keeps its copy.
                    if (protocol >= 30) output.SendMessage(ServerMessageRules.MsgNoSend, BitConverter.GetBytes(ndx));
                    continue;
                }
                report.Redo = phase > 0;
                if (!report.Redo) outcome.FilesRequested++;
                outcome.LiteralBytes += report.LiteralBytes;
                outcome.MatchedBytes += report.MatchedBytes;
                if (held == null) onFile?.Invoke(report);
                else if (!report.Redo) held[ndx] = report;
            }
            output.WriteNdx(NdxDone, protocol);
            output.Flush();
            ReadGoodbye(input, output, protocol, list.Count);
            if (held != null) ReportConfirmed(list, held, input, replan, onFile, outcome);
        }

        /// <summary>
        /// After the goodbye every confirmation is in (messages and data share one ordered stream): each sent file the
        /// receiver confirmed is reported; every listed entry but a directory (files, and the links and specials it
        /// makes unasked, which it confirms alike) that it did not confirm, and that is not re-planned anyway, is
        /// Unconfirmed (the caller retries it). A confirmed file that was not sent was already up to date.
        /// </summary>
        private static void ReportConfirmed(List<FileMeta> list, Dictionary<int, RsyncFileReport> held, ServerInput input, ReplanList replan,
            Action<RsyncFileReport> onFile, RsyncPushOutcome outcome)
        {
            var unconfirmed = new List<string>();
            for (int ndx = 0; ndx < list.Count; ndx++)
            {
                if (list[ndx].Kind == EntryKind.Directory || replan.Contains(list[ndx].RelativePath)) continue;
                if (!input.IsConfirmed(ndx)) { unconfirmed.Add(list[ndx].RelativePath); continue; }
                if (held.TryGetValue(ndx, out var report)) onFile?.Invoke(report);
            }
            outcome.Unconfirmed = unconfirmed;
        }

        /// <summary>
        /// What follows the version exchange before the seed: from 30 on the server's compat flags (refused if it wants
        /// incremental recursion, which we never ask for) and, with varint flags, the checksum and compression choices
        /// (<see cref="Negotiate"/>). Then the seed.
        /// </summary>
        private (RsyncChecksum Sum, bool VarintFlags, bool SafeFlist) Setup(ServerInput input, ServerOutput output, int protocol, out bool zstd)
        {
            zstd = false;
            if (protocol < 30)
            {
                if (_options.Compress)
                    throw new NotSupportedException($"The rsync on {ServerName} (protocol {protocol}) would compress with zlib, which this sender does not speak: push without compression.");
                return (new RsyncChecksum(RsyncChecksumKind.Md4Old, input.ReadRawInt(), false), false, false);
            }
            int compat = input.ReadRawVarint();
            if ((compat & CfIncRecurse) != 0)
                throw new InvalidDataException($"The rsync server on {ServerName} chose incremental recursion, which was not offered (compat flags 0x{compat:x}).");
            bool varintFlags = (compat & CfVarintFlistFlags) != 0;
            bool safeFlist = (compat & CfSafeFlist) != 0 || protocol >= 31;
            bool properSeed = (compat & CfChksumSeedFix) != 0;
            RsyncChecksumKind kind = RsyncChecksumKind.Md5;
            if (varintFlags)
            {
                var (checksumName, compression) = Negotiate(input, output);
                kind = RsyncChecksum.Supported.First(c => c.Name == checksumName).Kind;
                zstd = compression == "zstd";
            }
            else if (_options.Compress)
                throw new NotSupportedException($"The rsync on {ServerName} (protocol {protocol}) would compress with zlib, which this sender does not speak: push without compression.");
            int seed = input.ReadRawInt();
            return (new RsyncChecksum(kind, seed, properSeed), varintFlags, safeFlist);
        }

        /// <summary>Compression names this sender speaks: zstd tokens, or plain ones.</summary>
        private static readonly string[] Compressions = { "zstd", "none" };

        /// <summary>
        /// rsync's string negotiation (compat.c): the server sends its checksum list (and, with -z, its compression list)
        /// strongest first without waiting, then reads ours. We read first and answer with the names we speak in the
        /// server's own order. Which side's ranking a given rsync honours has changed between releases (up to 3.4 the
        /// server takes the first of the client's list it knows; from 3.5 each side takes its own best that the peer
        /// lists); with one shared order every release lands on the same name, the server's first choice that we speak.
        /// </summary>
        private (string Checksum, string Compression) Negotiate(ServerInput input, ServerOutput output)
        {
            var theirSums = ReadNameList(input, "checksum list");
            var theirCompressions = _options.Compress ? ReadNameList(input, "compression list") : null;
            var sums = theirSums.Where(n => RsyncChecksum.Supported.Any(c => c.Name == n)).Distinct().ToList();
            if (sums.Count == 0)
                throw new NotSupportedException($"The rsync on {ServerName} offers no checksum we know ({string.Join(" ", theirSums)}); we have {string.Join(" ", RsyncChecksum.Supported.Select(c => c.Name))}.");
            List<string> compressions = null;
            if (theirCompressions != null)
            {
                compressions = theirCompressions.Where(Compressions.Contains).Distinct().ToList();
                if (compressions.Count == 0)
                    throw new NotSupportedException($"The rsync on {ServerName} offers no compression we know ({string.Join(" ", theirCompressions)}); we have {string.Join(" ", Compressions)}.");
            }
            output.WriteVString(System.Text.Encoding.ASCII.GetBytes(string.Join(" ", sums)));
            if (compressions != null) output.WriteVString(System.Text.Encoding.ASCII.GetBytes(string.Join(" ", compressions)));
            output.Flush();
            return (sums[0], compressions?[0] ?? "none");
        }

        private static string[] ReadNameList(ServerInput input, string what) =>
            System.Text.Encoding.ASCII.GetString(input.ReadRawVString(1024, what)).Split(' ', StringSplitOptions.RemoveEmptyEntries);

        /// <summary>
        /// The next request: an index and (from 29) its item flags, with the basis type and name they may carry.
        /// Deletion stats are read past; a keep-alive of protocol 29 too. Indexes outside the list are refused.
        /// </summary>
        private (int Ndx, int Iflags, int BasisType, byte[] Xname) ReadNdxAndAttrs(ServerInput input, int protocol, int count)
        {
            while (true)
            {
                int ndx = input.ReadNdx(protocol);
                if (ndx == NdxDone) return (ndx, 0, 0, null);
                if (ndx == NdxDelStats && protocol >= 30)
                {
                    for (int i = 0; i < 5; i++) input.ReadVarint("deletion stats");
                    continue;
                }
                if (ndx < 0 || ndx > count)
                    throw new InvalidDataException($"The rsync server on {ServerName} asked for entry #{ndx}, past the {count} listed.");
                if (protocol < 29)
                {
                    if (ndx == count) throw new InvalidDataException($"The rsync server on {ServerName} asked for entry #{ndx}, past the {count} listed.");
                    return (ndx, ItemTransfer, 0, null);
                }
                int iflags = input.ReadShort();
                if (protocol < 30 && ndx == count && iflags == ItemIsNew) continue; // protocol 29's keep-alive
                if (ndx == count) throw new InvalidDataException($"The rsync server on {ServerName} asked for entry #{ndx}, past the {count} listed.");
                int basisType = (iflags & ItemBasisTypeFollows) != 0 ? input.ReadByte() : 0;
                byte[] xname = (iflags & ItemXnameFollows) != 0 ? input.ReadVString(4096, "basis name") : null;
                return (ndx, iflags, basisType, xname);
            }
        }

        private static void WriteNdxAndAttrs(ServerOutput output, int protocol, int ndx, int iflags, int basisType, byte[] xname)
        {
            output.WriteNdx(ndx, protocol);
            if (protocol < 29) return;
            output.WriteShort(iflags);
            if ((iflags & ItemBasisTypeFollows) != 0) output.WriteByte((byte)basisType);
            if ((iflags & ItemXnameFollows) != 0) output.WriteVString(xname ?? Array.Empty<byte>());
        }

        /// <summary>The receiver's last word: NDX_DONE (from 31: NDX_DONE, ours back, NDX_DONE again).</summary>
        private void ReadGoodbye(ServerInput input, ServerOutput output, int protocol, int count)
        {
            int ndx = protocol < 29 ? input.ReadInt() : ReadNdxAndAttrs(input, protocol, count).Ndx;
            if (ndx == NdxDone && protocol >= 31)
            {
                output.WriteNdx(NdxDone, protocol);
                output.Flush();
                ndx = ReadNdxAndAttrs(input, protocol, count).Ndx;
            }
            if (ndx != NdxDone) throw new InvalidDataException($"The rsync server on {ServerName} sent #{ndx} where the end of the session was due.");
        }

        /// <summary>The list as the receiver will index it.</summary>
        private static List<FileMeta> BuildList(IRsyncSource source, IReadOnlyList<FileMeta> entries, bool wholeTree, int protocol)
        {
            var list = FileListWriter.Sort(entries, protocol);
            if (wholeTree)
            {
                var top = source.Stat("") ?? throw new DirectoryNotFoundException($"Source directory '{source.Description}' does not exist.");
                // "." sorts among the others by its bytes below protocol 29, first from 29 on.
                list = FileListWriter.Sort(new[] { top.WithPath(".") }.Concat(list), protocol);
            }
            return list;
        }

        /// <summary>
        /// Sends one requested file, read from one descriptor whose fstat is compared with the listed entry. Null when
        /// nothing was sent (gone, another kind now, unreadable): not sending a requested file is allowed, the receiver
        /// keeps what it had, and the caller re-plans the path.
        /// </summary>
        private RsyncFileReport SendOne(IRsyncSource source, int ndx, FileMeta listed, BlockSums sums, DeltaEncoder encoder, ServerOutput output, ReplanList replan,
            Action writeHead)
        {
            var rel = listed.RelativePath;
            BeforeRead?.Invoke(rel);
            FileStream stream;
            FileMeta opened;
            try { stream = source.OpenRead(rel, out opened); }
            catch (NotRegularFileException) { replan.Add(rel, RsyncReplanReason.KindChanged); return null; }
            catch (Exception e) when (SourceErrors.IsGone(e)) { replan.Add(rel, RsyncReplanReason.Vanished); return null; }
            catch (Exception e) when (SourceErrors.IsLinkInTheWay(e)) { replan.Add(rel, RsyncReplanReason.KindChanged); return null; }
            catch (Exception e) when (e is UnauthorizedAccessException || e is IOException) { replan.Add(rel, RsyncReplanReason.Unreadable, e); return null; }
            using (stream)
            {
                writeHead();
                sums.WriteHead(output);
                try { encoder.Send(stream, sums); }
                catch (IOException e)
                {
                    // Tokens are half out: the stream cannot be resynchronized, so the whole push fails. Say which file.
                    throw new IOException($"Reading '{source.Description}/{rel}' failed mid-transfer: {e.Message}", e);
                }
            }
            // Sent what the descriptor held; if that is not the listed version, or it moved while being read, the
            // replica may now have newer (or mixed) bytes under the listed metadata: the caller plans it again.
            FileMeta after = null;
            try { after = source.Stat(rel); } catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
            bool changed = !SameVersion(opened, listed) || after == null || !SameVersion(after, opened) || after.Inode != opened.Inode;
            if (changed) replan.Add(rel, RsyncReplanReason.Changed);
            return new RsyncFileReport
            {
                RelativePath = rel,
                Changed = changed,
                HadBasis = sums.Count > 0,
                LiteralBytes = encoder.Literal,
                MatchedBytes = encoder.Matched,
            };
        }

        /// <summary>
        /// The listed entry carried mode, owner and group to the receiver as well as size and time: a chmod or chown
        /// between listing and sending (a race with a watcher-less one-shot sync, above all) would otherwise leave the
        /// replica with the old ones and nothing to say so.
        /// </summary>
        private static bool SameVersion(FileMeta a, FileMeta b) =>
            a.Kind == b.Kind && a.Size == b.Size && a.MTime == b.MTime && a.MTimeNanos == b.MTimeNanos &&
            a.Mode == b.Mode && a.Uid == b.Uid && a.Gid == b.Gid;

        /// <summary>Paths to re-plan, each once, in the order met.</summary>
        private sealed class ReplanList
        {
            private readonly Dictionary<string, RsyncReplan> _byPath = new Dictionary<string, RsyncReplan>(StringComparer.Ordinal);
            private readonly List<RsyncReplan> _items = new List<RsyncReplan>();
            public void Add(string path, RsyncReplanReason reason, Exception error = null)
            {
                if (_byPath.ContainsKey(path)) return;
                var r = new RsyncReplan(path, reason, error);
                _byPath[path] = r;
                _items.Add(r);
            }
            public IReadOnlyList<RsyncReplan> Items => _items;
            public bool Contains(string path) => _byPath.ContainsKey(path);
        }
    }

    /// <summary>How source read errors are told apart (by errno where there is one).</summary>
    internal static class SourceErrors
    {
        private const int ENOENT = 2, ENOTDIR = 20, ELOOP = 40;

        public static bool IsGone(Exception e) =>
            e is FileNotFoundException || e is DirectoryNotFoundException || e is PosixException p && (p.Errno == ENOENT || p.Errno == ENOTDIR);

        /// <summary>O_NOFOLLOW met a symlink at the name (or a component): the entry is not the file listed.</summary>
        public static bool IsLinkInTheWay(Exception e) => e is PosixException p && p.Errno == ELOOP;
    }
}
