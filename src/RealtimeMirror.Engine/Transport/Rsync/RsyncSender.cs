using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// The sending side of rsync protocol 27, talking to a stock `rsync --server` receiver:
    /// version and seed, (with --delete) the filter list, the file list, then for each file the receiver
    /// asks for: its block sums in, tokens and the whole-file MD4 out; two phases (the second re-sends files
    /// whose checksum failed) and the final goodbye.
    /// </summary>
    public sealed class RsyncSender
    {
        public const int ProtocolVersion = 27;
        private const byte XmitTopDir = 0x01, XmitLongName = 0x40;
        private const int S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFLNK = 0xA000;

        private readonly Stream _fromServer, _toServer;
        private readonly RsyncPushOptions _options;

        public RsyncSender(Stream fromServer, Stream toServer, RsyncPushOptions options)
        {
            _fromServer = fromServer;
            _toServer = toServer;
            _options = options;
        }

        /// <summary>Test seam: runs between a file's first stat and its read.</summary>
        internal Action<string> BeforeRead { get; set; }

        /// <summary>
        /// Pushes <paramref name="entries"/> (relative to <paramref name="sourceRoot"/>). With
        /// <paramref name="wholeTree"/> the root itself goes as "." so the receiver can delete extras at the top.
        /// A partial list must include the parent directories of its files.
        /// </summary>
        public RsyncPushSummary Push(string sourceRoot, IReadOnlyList<FileMeta> entries, bool wholeTree, Action<RsyncFileReport> onFile, CancellationToken cancel)
        {
            var input = new ServerInput(_fromServer, cancel);
            var output = new ServerOutput(_toServer);
            var summary = new RsyncPushSummary();
            var changed = new List<string>();
            using (cancel.Register(() => { try { _fromServer.Dispose(); } catch { } try { _toServer.Dispose(); } catch { } }))
            {
                output.WriteInt(ProtocolVersion);
                output.Flush();
                int remote = input.ReadRawInt();
                if (remote < ProtocolVersion) throw new NotSupportedException($"The replica's rsync speaks protocol {remote}; at least {ProtocolVersion} is needed.");
                int seed = input.ReadRawInt();
                input.StartDemultiplexing();

                if (_options.Delete)
                {
                    foreach (var p in _options.ProtectFromDelete) output.WriteString("- " + p);
                    output.WriteInt(0);
                }

                var list = BuildList(sourceRoot, entries, wholeTree);
                WriteFileList(output, list);
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
                    if (ndx < 0 || ndx >= list.Count) throw new InvalidDataException($"The rsync server asked for file #{ndx} of {list.Count}.");
                    var sums = BlockSums.Read(input);
                    var report = SendOne(sourceRoot, ndx, list[ndx], sums, encoder, output);
                    if (report == null) continue;
                    if (report.ReadError != null) { onFile?.Invoke(report); continue; }
                    summary.FilesRequested++;
                    summary.LiteralBytes += report.LiteralBytes;
                    summary.MatchedBytes += report.MatchedBytes;
                    if (report.ChangedDuringTransfer) changed.Add(report.RelativePath);
                    onFile?.Invoke(report);
                }
                input.ReadInt(); // the receiver's goodbye
                input.WaitForEnd(TimeSpan.FromSeconds(2));
            }
            summary.BytesSent = output.BytesSent;
            summary.BytesReceived = input.BytesReceived;
            summary.ServerMessages = input.Messages;
            summary.Deleted = input.Messages.Where(m => m.StartsWith("deleting ", StringComparison.Ordinal))
                .Select(m => m.Substring("deleting ".Length).TrimEnd('/')).ToList();
            summary.Changed = changed;
            return summary;
        }

        /// <summary>The list as the receiver will index it: sorted by the raw bytes of the path (protocol &lt; 29).</summary>
        private static List<FileMeta> BuildList(string root, IReadOnlyList<FileMeta> entries, bool wholeTree)
        {
            var list = new List<FileMeta>(entries.Count + 1);
            if (wholeTree)
            {
                var top = LocalFileSystem.Stat(root, "") ?? throw new DirectoryNotFoundException($"Source directory '{root}' does not exist.");
                list.Add(top.WithPath("."));
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in entries)
                if (e.RelativePath.Length > 0 && seen.Add(e.RelativePath)) list.Add(e);
            list.Sort((a, b) => RelativePath.Utf8Order.Compare(a.RelativePath, b.RelativePath));
            return list;
        }

        private void WriteFileList(ServerOutput output, List<FileMeta> list)
        {
            foreach (var e in list)
            {
                output.WriteByte((byte)(XmitLongName | (e.RelativePath == "." ? XmitTopDir : 0)));
                output.WriteString(e.RelativePath);
                output.WriteLong(e.Kind == EntryKind.File ? e.Size : 0);
                output.WriteInt((int)e.MTime);
                int type = e.Kind == EntryKind.Directory ? S_IFDIR : e.Kind == EntryKind.Symlink ? S_IFLNK : S_IFREG;
                int perm = e.Mode >= 0 ? e.Mode : e.Kind == EntryKind.Directory ? 0x1ED : e.Kind == EntryKind.Symlink ? 0x1FF : 0x1A4;
                output.WriteInt(type | perm);
                if (_options.PreserveOwner) output.WriteInt(unchecked((int)(uint)Math.Max(0, e.Uid)));
                if (_options.PreserveGroup) output.WriteInt(unchecked((int)(uint)Math.Max(0, e.Gid)));
                if (_options.PreserveLinks && e.Kind == EntryKind.Symlink) output.WriteString(e.LinkTarget ?? "");
            }
            output.WriteByte(0);
            output.WriteInt(0); // io_error: none
        }

        /// <summary>Sends one requested file; null when it vanished (the receiver then simply does not get it, and the
        /// watcher reports the delete).</summary>
        private RsyncFileReport SendOne(string root, int ndx, FileMeta entry, BlockSums sums, DeltaEncoder encoder, ServerOutput output)
        {
            var full = RelativePath.ToFull(root, entry.RelativePath);
            var before = LocalFileSystem.Stat(full, entry.RelativePath);
            if (before == null || before.Kind != EntryKind.File) return null;
            BeforeRead?.Invoke(full);
            FileStream stream;
            try { stream = LocalFileSystem.OpenForReading(full, FileOptions.SequentialScan); }
            catch (Exception e) when (e is FileNotFoundException || e is DirectoryNotFoundException) { return null; }
            // Not sending a requested file is allowed: the receiver keeps what it had. The caller reports why.
            catch (Exception e) when (e is UnauthorizedAccessException || e is IOException) { return new RsyncFileReport { RelativePath = entry.RelativePath, ReadError = e }; }
            using (stream)
            {
                output.WriteInt(ndx);
                sums.WriteHead(output);
                encoder.Send(stream, sums, () => LocalFileSystem.OpenForReading(full, FileOptions.SequentialScan));
            }
            var after = LocalFileSystem.Stat(full, entry.RelativePath);
            return new RsyncFileReport
            {
                RelativePath = entry.RelativePath,
                HadBasis = sums.Count > 0,
                LiteralBytes = encoder.Literal,
                MatchedBytes = encoder.Matched,
                // Size or time moved while we read: what arrived may be a mix of old and new. Send it again.
                ChangedDuringTransfer = after == null || after.Size != before.Size || after.MTime != before.MTime || after.Size != entry.Size || after.MTime != entry.MTime,
            };
        }
    }
}
