using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// Sends one file as rsync tokens against the receiver's block sums: literal runs (at most 32 KiB each)
    /// and references to blocks it already has, then the whole-file sum (MD4, MD5 or xxhash as negotiated). Streams the file through a
    /// sliding buffer (memory stays ~1 MiB whatever the size) and checks the weak sum with a 64K-entry
    /// table before any dictionary lookup, so unmatched data costs a few nanoseconds per byte.
    /// </summary>
    internal sealed class DeltaEncoder
    {
        private const int MaxLiteral = 32 * 1024;
        private readonly ServerOutput _out;
        private readonly RsyncChecksum _sum;
        private readonly CancellationToken _cancel;

        private Stream _file;
        private byte[] _buf;
        private long _bufStart, _bufEnd; // file offsets held in _buf
        private bool _eof;
        private readonly RsyncChecksum.FileSum _fileSum;
        private readonly Md4 _md4 = new Md4();
        private readonly byte[] _digest = new byte[16];

        public long Literal, Matched;

        /// <summary>Tokens through zstd (negotiated compression) instead of rsync's simple tokens; null for none.</summary>
        private readonly ZstdTokens _zstd;

        public DeltaEncoder(ServerOutput output, RsyncChecksum sum, CancellationToken cancel, ZstdTokens zstd = null)
        {
            _zstd = zstd;
            _out = output;
            _sum = sum;
            _fileSum = sum.NewFileSum();
            _cancel = cancel;
        }

        /// <summary>Files at least this big have their whole-file sum computed on another core (see <see cref="Send"/>).</summary>
        private const long ParallelHashFrom = 8 * 1024 * 1024;

        /// <summary>
        /// Sends one file. For a big file the whole-file sum is computed on another core by positional reads of the
        /// same descriptor (the same inode, never a second open by name) while this thread matches blocks, so the two
        /// passes no longer add up; should the file change between the two reads, the receiver's check fails and it
        /// asks again in its redo phase (and the sender's after-read stat reports the change). Small files are hashed
        /// as they are sent.
        /// </summary>
        public void Send(Stream file, BlockSums sums)
        {
            _file = file;
            // One buffer for every file of the push: a burst of small files must not allocate a megabyte each.
            int size = 1024 * 1024 + 2 * Math.Max(sums.BlockLength, 1);
            if (_buf == null || _buf.Length < size) _buf = new byte[size];
            _bufStart = _bufEnd = 0;
            _eof = false;
            _fileSum.Reset();
            var fs = file as FileStream;
            _hashInline = fs == null || !fs.CanSeek || fs.Length < ParallelHashFrom;
            var wholeSum = _hashInline ? null : System.Threading.Tasks.Task.Run(() => HashWholeFile(fs.SafeFileHandle));
            Literal = Matched = 0;
            if (sums.Count == 0) SendAllLiteral();
            else SendDelta(sums);
            if (_zstd != null) _zstd.End(); else _out.WriteInt(0);
            var digest = wholeSum != null ? wholeSum.GetAwaiter().GetResult() : _fileSum.Final();
            _out.Write(digest, 0, digest.Length);
        }

        private bool _hashInline;

        private byte[] HashWholeFile(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
        {
            var whole = _sum.NewFileSum();
            var buf = new byte[1024 * 1024];
            long offset = 0;
            int n;
            while ((n = RandomAccess.Read(handle, buf, offset)) > 0)
            {
                _cancel.ThrowIfCancellationRequested();
                whole.Update(buf, 0, n);
                offset += n;
            }
            return whole.Final();
        }

        private void SendAllLiteral()
        {
            long pos = 0;
            while (true)
            {
                Ensure(pos, pos + MaxLiteral);
                int n = (int)Math.Min(MaxLiteral, _bufEnd - pos);
                if (n <= 0) return;
                EmitLiteral(pos, n);
                pos += n;
            }
        }

        private void SendDelta(BlockSums sums)
        {
            var tags = new bool[65536];
            var byWeak = new Dictionary<uint, List<int>>(sums.Count);
            for (int i = 0; i < sums.Count; i++)
            {
                tags[Tag(sums.Weak[i])] = true;
                if (!byWeak.TryGetValue(sums.Weak[i], out var list)) byWeak[sums.Weak[i]] = list = new List<int>(1);
                list.Add(i);
            }
            int blength = sums.BlockLength;
            long pos = 0, litStart = 0;
            var rc = new RollingChecksum();
            Ensure(litStart, pos + blength);
            int wlen = (int)Math.Min(blength, _bufEnd - pos);
            if (wlen > 0) rc.Reset(_buf, (int)(pos - _bufStart), wlen);
            long steps = 0;
            while (wlen > 0)
            {
                if ((++steps & 0xFFFFF) == 0) _cancel.ThrowIfCancellationRequested();
                uint weak = rc.Value;
                if (tags[Tag(weak)] && byWeak.TryGetValue(weak, out var candidates))
                {
                    int block = FindStrong(candidates, sums, pos, wlen);
                    if (block >= 0)
                    {
                        FlushLiteral(litStart, pos);
                        if (_hashInline) _fileSum.Update(_buf, (int)(pos - _bufStart), wlen);
                        if (_zstd != null) _zstd.Match(block); else _out.WriteInt(-(block + 1));
                        Matched += wlen;
                        pos += wlen;
                        litStart = pos;
                        Ensure(litStart, pos + blength);
                        wlen = (int)Math.Min(blength, _bufEnd - pos);
                        if (wlen > 0) rc.Reset(_buf, (int)(pos - _bufStart), wlen);
                        continue;
                    }
                }
                if (pos - litStart >= MaxLiteral) { FlushLiteral(litStart, litStart + MaxLiteral); litStart += MaxLiteral; }
                long next = pos + wlen;
                if (next >= _bufEnd) Ensure(litStart, next + 1);
                byte outByte = _buf[pos - _bufStart];
                if (next < _bufEnd) rc.Roll(outByte, _buf[next - _bufStart]);
                else { rc.Shrink(outByte); wlen--; } // end of file: the window shrinks
                pos++;
            }
            FlushLiteral(litStart, pos);
        }

        private int FindStrong(List<int> candidates, BlockSums sums, long pos, int wlen)
        {
            byte[] digest = null;
            foreach (var block in candidates)
            {
                if (sums.LengthOf(block) != wlen) continue;
                if (digest == null)
                {
                    _sum.Block(_buf, (int)(pos - _bufStart), wlen, _md4, _digest);
                    digest = _digest;
                }
                int off = block * sums.StrongLength, k = 0;
                while (k < sums.StrongLength && sums.Strong[off + k] == digest[k]) k++;
                if (k == sums.StrongLength) return block;
            }
            return -1;
        }

        private static int Tag(uint weak) => (int)((weak & 0xFFFF) + (weak >> 16)) & 0xFFFF;

        private void FlushLiteral(long from, long to)
        {
            while (from < to)
            {
                int n = (int)Math.Min(MaxLiteral, to - from);
                EmitLiteral(from, n);
                from += n;
            }
        }

        private void EmitLiteral(long from, int n)
        {
            int off = (int)(from - _bufStart);
            if (_zstd != null) _zstd.Literal(_buf, off, n);
            else { _out.WriteInt(n); _out.Write(_buf, off, n); }
            if (_hashInline) _fileSum.Update(_buf, off, n);
            Literal += n;
        }

        /// <summary>Makes _buf hold file bytes [keepFrom, upTo) (or up to EOF), sliding and refilling as needed.</summary>
        private void Ensure(long keepFrom, long upTo)
        {
            if (upTo <= _bufEnd || _eof) return;
            if (keepFrom > _bufStart)
            {
                int keep = (int)(_bufEnd - keepFrom);
                Buffer.BlockCopy(_buf, (int)(keepFrom - _bufStart), _buf, 0, keep);
                _bufStart = keepFrom;
            }
            while (_bufEnd < upTo && !_eof)
            {
                int space = _buf.Length - (int)(_bufEnd - _bufStart);
                if (space == 0) break;
                int n = _file.Read(_buf, (int)(_bufEnd - _bufStart), space);
                if (n <= 0) { _eof = true; break; }
                _bufEnd += n;
            }
        }
    }
}
