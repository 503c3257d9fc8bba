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
    /// The sending side of rsync protocol 27, talking to a stock `rsync --server` receiver: version and seed,
    /// (with --delete) the filter list, the file list, then for each file the receiver asks for: its block sums
    /// in, tokens and the whole-file MD4 out; two phases (the second re-sends files whose checksum failed) and the
    /// final goodbye. Everything the server sends is checked before use: it may be hostile or just not rsync.
    /// </summary>
    public sealed class RsyncSender
    {
        public const int ProtocolVersion = 27;

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
            var output = new ServerOutput(_toServer);
            var outcome = new RsyncPushOutcome();
            var replan = new ReplanList();
            using (cancel.Register(() => { try { _fromServer.Dispose(); } catch { } try { _toServer.Dispose(); } catch { } }))
            {
                output.WriteInt(ProtocolVersion);
                output.Flush();
                int remote = input.ReadProtocolVersion(ServerName);
                if (remote < ProtocolVersion) throw new NotSupportedException($"The rsync on {ServerName} speaks protocol {remote}; at least {ProtocolVersion} is needed.");
                int seed = input.ReadRawInt();
                input.StartDemultiplexing();

                if (_options.Delete)
                {
                    foreach (var p in _options.ProtectFromDelete) output.WriteName("- " + p);
                    output.WriteInt(0);
                }

                var list = BuildList(source, entries, wholeTree);
                FileListWriter.Write(output, list, _options, ioError);
                output.Flush();

                var encoder = new DeltaEncoder(output, seed, cancel);
                input.BeforeWait = output.Flush;
                int phase = 0;
                while (true)
                {
                    int ndx = input.ReadInt();
                    if (ndx == -1)
                    {
                        output.WriteInt(-1); // end of this phase for the receiver too
                        output.Flush();
                        if (++phase > 1) break;
                        continue;
                    }
                    if (ndx < 0 || ndx >= list.Count || list[ndx].Kind != EntryKind.File)
                        throw new InvalidDataException($"The rsync server on {ServerName} asked for entry #{ndx}, which is not a regular file of the {list.Count} listed.");
                    var sums = BlockSums.Read(input);
                    var report = SendOne(source, ndx, list[ndx], sums, encoder, output, replan);
                    if (report == null) continue;
                    report.Redo = phase > 0;
                    if (!report.Redo) outcome.FilesRequested++;
                    outcome.LiteralBytes += report.LiteralBytes;
                    outcome.MatchedBytes += report.MatchedBytes;
                    onFile?.Invoke(report);
                }
                input.ReadInt(); // the receiver's goodbye
                input.WaitForEnd(TimeSpan.FromSeconds(2));
            }
            outcome.BytesSent = output.BytesSent;
            outcome.BytesReceived = input.BytesReceived;
            outcome.ServerMessages = input.Messages;
            outcome.Replan = replan.Items;
            return outcome;
        }

        /// <summary>The list as the receiver will index it.</summary>
        private static List<FileMeta> BuildList(IRsyncSource source, IReadOnlyList<FileMeta> entries, bool wholeTree)
        {
            var list = FileListWriter.Sort(entries);
            if (wholeTree)
            {
                var top = source.Stat("") ?? throw new DirectoryNotFoundException($"Source directory '{source.Description}' does not exist.");
                // "." sorts among the others by its bytes (protocol < 29 compares whole paths).
                list = FileListWriter.Sort(new[] { top.WithPath(".") }.Concat(list));
            }
            return list;
        }

        /// <summary>
        /// Sends one requested file, read from one descriptor whose fstat is compared with the listed entry. Null when
        /// nothing was sent (gone, another kind now, unreadable): not sending a requested file is allowed, the receiver
        /// keeps what it had, and the caller re-plans the path.
        /// </summary>
        private RsyncFileReport SendOne(IRsyncSource source, int ndx, FileMeta listed, BlockSums sums, DeltaEncoder encoder, ServerOutput output, ReplanList replan)
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
                output.WriteInt(ndx);
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

        private static bool SameVersion(FileMeta a, FileMeta b) =>
            a.Kind == b.Kind && a.Size == b.Size && a.MTime == b.MTime && a.MTimeNanos == b.MTimeNanos;

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
