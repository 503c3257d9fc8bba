using System;
using ZstdSharp.Unsafe;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// rsync's zstd token stream (protocol 31, negotiated "zstd"): literal data goes through one compressor for the
    /// whole session in DEFLATED_DATA pieces (a 2-byte header, at most 16383 bytes), flushed before each block
    /// reference; block references go as runs relative to the previous run's end; END_FLAG ends a file.
    /// </summary>
    internal sealed unsafe class ZstdTokens : IDisposable
    {
        private const byte EndFlag = 0, TokenLong = 0x20, TokenRunLong = 0x21, DeflatedData = 0x40, TokenRel = 0x80, TokenRunRel = 0xC0;
        private const int MaxDataCount = 16383;

        private readonly ServerOutput _out;
        private ZSTD_CCtx_s* _cctx;
        private readonly byte[] _obuf = new byte[MaxDataCount + 2];
        private int _lastToken = -1, _runStart, _lastRunEnd;
        private bool _flushPending;

        public ZstdTokens(ServerOutput output, int level = 3)
        {
            _out = output;
            _cctx = Methods.ZSTD_createCCtx();
            if (_cctx == null) throw new InvalidOperationException("zstd: no compression context");
            Methods.ZSTD_CCtx_setParameter(_cctx, ZSTD_cParameter.ZSTD_c_compressionLevel, level);
        }

        /// <summary>Literal bytes (token -2 in rsync's terms: more may follow before anything is flushed).</summary>
        public void Literal(byte[] buf, int offset, int count) => Token(-2, buf, offset, count);

        /// <summary>A reference to block <paramref name="block"/> of the receiver's basis.</summary>
        public void Match(int block) => Token(block, null, 0, 0);

        /// <summary>The end of one file's tokens.</summary>
        public void End() => Token(-1, null, 0, 0);

        private void Token(int token, byte[] buf, int offset, int nb)
        {
            if (_lastToken == -1) { _lastRunEnd = 0; _runStart = token; _flushPending = false; }
            else if (_lastToken == -2) _runStart = token;
            else if (nb != 0 || token != _lastToken + 1 || token >= _runStart + 65536)
            {
                // The run of consecutive blocks before this point goes out now.
                int r = _runStart - _lastRunEnd, n = _lastToken - _runStart;
                if (r >= 0 && r <= 63) _out.WriteByte((byte)((n == 0 ? TokenRel : TokenRunRel) + r));
                else { _out.WriteByte(n == 0 ? TokenLong : TokenRunLong); _out.WriteInt(_runStart); }
                if (n != 0) { _out.WriteByte((byte)n); _out.WriteByte((byte)(n >> 8)); }
                _lastRunEnd = _lastToken;
                _runStart = token;
            }
            _lastToken = token;
            if (nb != 0 || _flushPending)
            {
                var directive = token != -2 ? ZSTD_EndDirective.ZSTD_e_flush : ZSTD_EndDirective.ZSTD_e_continue;
                fixed (byte* src = buf)
                fixed (byte* dst = _obuf)
                {
                    var input = new ZSTD_inBuffer_s { src = src + offset, size = (nuint)nb, pos = 0 };
                    bool finished;
                    do
                    {
                        var output = new ZSTD_outBuffer_s { dst = dst + 2, size = MaxDataCount, pos = 0 };
                        nuint rc = Methods.ZSTD_compressStream2(_cctx, &output, &input, directive);
                        if (Methods.ZSTD_isError(rc)) throw new InvalidOperationException($"zstd compression failed ({rc})");
                        finished = directive == ZSTD_EndDirective.ZSTD_e_flush ? rc == 0 : input.pos == input.size;
                        int n = (int)output.pos;
                        if (n != 0)
                        {
                            _obuf[0] = (byte)(DeflatedData + (n >> 8));
                            _obuf[1] = (byte)n;
                            _out.Write(_obuf, 0, n + 2);
                        }
                    } while (!finished);
                }
                _flushPending = token == -2;
            }
            if (token == -1) _out.WriteByte(EndFlag);
        }

        public void Dispose()
        {
            if (_cctx != null) { Methods.ZSTD_freeCCtx(_cctx); _cctx = null; }
        }
    }
}
