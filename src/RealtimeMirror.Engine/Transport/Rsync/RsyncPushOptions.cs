using System;
using System.Collections.Generic;
using System.Linq;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    public sealed class RsyncPushOptions
    {
        /// <summary>The list is a whole tree starting at "." (needed for Delete).</summary>
        public bool Recursive { get; set; } = true;
        /// <summary>Remove receiver entries not in the list, in the directories the list covers (sender tests only:
        /// the product's planner deletes by itself).</summary>
        public bool Delete { get; set; }
        public bool PreserveLinks { get; set; } = true;
        public bool PreservePerms { get; set; } = true;
        public bool PreserveTimes { get; set; } = true;
        public bool PreserveOwner { get; set; }
        public bool PreserveGroup { get; set; }
        /// <summary>-D: devices, fifos and sockets are recreated (rdev in the list).</summary>
        public bool PreserveSpecials { get; set; }
        /// <summary>-H: regular files carry (dev, inode), so the receiver links those that share one.</summary>
        public bool PreserveHardLinks { get; set; }
        /// <summary>-I: the receiver sends block sums for every listed file even when size and mtime match, so a
        /// same-size rewrite within the same second still travels.</summary>
        public bool IgnoreTimes { get; set; }
        /// <summary>-z: literal data through zstd. Needs protocol 30+ with varint flags and a server that offers zstd
        /// (rsync 3.2.3+); an older one would expect zlib, which we do not speak: the push then fails at the start.</summary>
        public bool Compress { get; set; }
        /// <summary>Starts the server with --protocol=N (tests: a new rsync standing in for an older one). Null: its own.</summary>
        public int? ServerProtocol { get; set; }
        /// <summary>The highest protocol we announce (27-31); the session speaks the lower of this and the server's.</summary>
        public int MaxProtocol { get; set; } = RsyncSender.MaxProtocol;
        /// <summary>The capability letters sent after "-e." (protocol 30+). Tests drop 'v' (and 'f', 'C') to meet the server as
        /// rsync 3.0/3.1 would: byte flags, implied MD5, io_error by message.</summary>
        internal string Capabilities { get; set; } = "LfxCv";
        /// <summary>
        /// The receiver confirms each regular file it put in place (MSG_SUCCESS), and results come from those
        /// confirmations instead of from what was sent. Asked for with --remove-source-files, the only option that makes
        /// a stock receiver (rsync 3.0 and later) say so; removing is the sender's job, and this sender removes nothing.
        /// </summary>
        public bool ConfirmEachFile { get; set; }
        /// <summary>--backup --backup-dir=DIR: the receiver moves each file it replaces there (relative to the destination
        /// root; letters, digits and . _ - / only). Null: no backups.</summary>
        public string BackupDir { get; set; }
        /// <summary>Patterns the receiver must not delete (our excludes), sent as the filter list.</summary>
        public IReadOnlyList<string> ProtectFromDelete { get; set; } = Array.Empty<string>();
    }

    /// <summary>One file the receiver asked for and we sent.</summary>
    public sealed class RsyncFileReport
    {
        public string RelativePath { get; internal set; }
        /// <summary>The receiver had an old version to build from (delta), rather than nothing.</summary>
        public bool HadBasis { get; internal set; }
        public long LiteralBytes { get; internal set; }
        public long MatchedBytes { get; internal set; }
        /// <summary>Sent again in the receiver's redo phase (its checksum of the first copy failed).</summary>
        public bool Redo { get; internal set; }
        /// <summary>What was sent is not the listed version (or moved while read); the path is in the outcome's Replan too.</summary>
        public bool Changed { get; internal set; }
    }

    public enum RsyncReplanReason
    {
        /// <summary>Gone (or a parent gone) when it was to be read or listed.</summary>
        Vanished,
        /// <summary>Not what was listed any more (size, time or inode), or it changed while being read: what arrived
        /// may be a newer version under the listed metadata.</summary>
        Changed,
        /// <summary>Became a link, fifo, directory... where a regular file was listed; nothing was sent.</summary>
        KindChanged,
        /// <summary>Could not be opened or read; nothing was sent (<see cref="RsyncReplan.Error"/> says why).</summary>
        Unreadable,
    }

    /// <summary>An entry that did not go as listed: the caller plans it again.</summary>
    public sealed record RsyncReplan(string RelativePath, RsyncReplanReason Reason, Exception Error = null);

    /// <summary>What a push did.</summary>
    public sealed class RsyncPushOutcome
    {
        /// <summary>The protocol the session spoke (the lower of ours and the server's).</summary>
        public int Protocol { get; internal set; }
        /// <summary>The strong checksum used ("md4" below protocol 30, else "md5" or the negotiated one).</summary>
        public string Checksum { get; internal set; }
        /// <summary>"zstd" when literal data went compressed, else "none".</summary>
        public string Compression { get; internal set; }
        /// <summary>Entries not sent as listed, one row per path (the first reason met).</summary>
        public IReadOnlyList<RsyncReplan> Replan { get; internal set; } = Array.Empty<RsyncReplan>();
        public IReadOnlyList<string> ReplanPaths => Replan.Select(r => r.RelativePath).ToList();
        public long LiteralBytes { get; internal set; }
        public long MatchedBytes { get; internal set; }
        public long BytesSent { get; internal set; }
        public long BytesReceived { get; internal set; }
        /// <summary>Regular files the receiver asked for (first phase).</summary>
        public int FilesRequested { get; internal set; }
        /// <summary>With <see cref="RsyncPushOptions.ConfirmEachFile"/>: listed entries other than directories (files,
        /// links, specials) the receiver did not confirm (not written, or failed after the data arrived), less those in
        /// <see cref="Replan"/>.</summary>
        public IReadOnlyList<string> Unconfirmed { get; internal set; } = Array.Empty<string>();
        /// <summary>The receiver's log and error lines (names in the project's path encoding).</summary>
        public IReadOnlyList<string> ServerMessages { get; internal set; } = Array.Empty<string>();
    }
}
