using System;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// MD4 (RFC 1320), incremental. rsync protocols below 30 use it for block and whole-file checksums,
    /// and .NET ships no MD4. Not for security: only to recognise data the replica already has.
    /// </summary>
    public sealed class Md4
    {
        private uint _a, _b, _c, _d;
        private readonly byte[] _block = new byte[64];
        private readonly uint[] _x = new uint[16];
        private int _blockLen;
        private long _total;

        public Md4() { Reset(); }

        public void Reset()
        {
            _a = 0x67452301; _b = 0xefcdab89; _c = 0x98badcfe; _d = 0x10325476;
            _blockLen = 0; _total = 0;
        }

        public void Update(byte[] data, int offset, int count)
        {
            _total += count;
            if (_blockLen > 0)
            {
                int take = Math.Min(64 - _blockLen, count);
                Buffer.BlockCopy(data, offset, _block, _blockLen, take);
                _blockLen += take; offset += take; count -= take;
                if (_blockLen < 64) return;
                Transform(_block, 0);
                _blockLen = 0;
            }
            while (count >= 64) { Transform(data, offset); offset += 64; count -= 64; }
            if (count > 0) { Buffer.BlockCopy(data, offset, _block, 0, count); _blockLen = count; }
        }

        public byte[] Final()
        {
            long bits = _total * 8;
            var pad = new byte[(_blockLen < 56 ? 56 : 120) - _blockLen + 8];
            pad[0] = 0x80;
            for (int i = 0; i < 8; i++) pad[pad.Length - 8 + i] = (byte)(bits >> (8 * i));
            Update(pad, 0, pad.Length);
            var digest = new byte[16];
            Put(digest, 0, _a); Put(digest, 4, _b); Put(digest, 8, _c); Put(digest, 12, _d);
            Reset();
            return digest;
        }

        public static byte[] Hash(byte[] data, int offset, int count)
        {
            var m = new Md4();
            m.Update(data, offset, count);
            return m.Final();
        }

        private static void Put(byte[] b, int o, uint v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); b[o + 2] = (byte)(v >> 16); b[o + 3] = (byte)(v >> 24); }
        private static uint Rotl(uint x, int s) => (x << s) | (x >> (32 - s));

        private void Transform(byte[] p, int o)
        {
            var x = _x;
            for (int i = 0; i < 16; i++, o += 4) x[i] = (uint)(p[o] | p[o + 1] << 8 | p[o + 2] << 16 | p[o + 3] << 24);
            uint a = _a, b = _b, c = _c, d = _d;
            // Round 1: F(x,y,z) = (x & y) | (~x & z)
            a = Rotl(a + ((b & c) | (~b & d)) + x[0], 3); d = Rotl(d + ((a & b) | (~a & c)) + x[1], 7); c = Rotl(c + ((d & a) | (~d & b)) + x[2], 11); b = Rotl(b + ((c & d) | (~c & a)) + x[3], 19);
            a = Rotl(a + ((b & c) | (~b & d)) + x[4], 3); d = Rotl(d + ((a & b) | (~a & c)) + x[5], 7); c = Rotl(c + ((d & a) | (~d & b)) + x[6], 11); b = Rotl(b + ((c & d) | (~c & a)) + x[7], 19);
            a = Rotl(a + ((b & c) | (~b & d)) + x[8], 3); d = Rotl(d + ((a & b) | (~a & c)) + x[9], 7); c = Rotl(c + ((d & a) | (~d & b)) + x[10], 11); b = Rotl(b + ((c & d) | (~c & a)) + x[11], 19);
            a = Rotl(a + ((b & c) | (~b & d)) + x[12], 3); d = Rotl(d + ((a & b) | (~a & c)) + x[13], 7); c = Rotl(c + ((d & a) | (~d & b)) + x[14], 11); b = Rotl(b + ((c & d) | (~c & a)) + x[15], 19);
            // Round 2: G(x,y,z) = (x & y) | (x & z) | (y & z), plus 0x5a827999
            const uint k2 = 0x5a827999;
            a = Rotl(a + ((b & c) | (b & d) | (c & d)) + x[0] + k2, 3); d = Rotl(d + ((a & b) | (a & c) | (b & c)) + x[4] + k2, 5); c = Rotl(c + ((d & a) | (d & b) | (a & b)) + x[8] + k2, 9); b = Rotl(b + ((c & d) | (c & a) | (d & a)) + x[12] + k2, 13);
            a = Rotl(a + ((b & c) | (b & d) | (c & d)) + x[1] + k2, 3); d = Rotl(d + ((a & b) | (a & c) | (b & c)) + x[5] + k2, 5); c = Rotl(c + ((d & a) | (d & b) | (a & b)) + x[9] + k2, 9); b = Rotl(b + ((c & d) | (c & a) | (d & a)) + x[13] + k2, 13);
            a = Rotl(a + ((b & c) | (b & d) | (c & d)) + x[2] + k2, 3); d = Rotl(d + ((a & b) | (a & c) | (b & c)) + x[6] + k2, 5); c = Rotl(c + ((d & a) | (d & b) | (a & b)) + x[10] + k2, 9); b = Rotl(b + ((c & d) | (c & a) | (d & a)) + x[14] + k2, 13);
            a = Rotl(a + ((b & c) | (b & d) | (c & d)) + x[3] + k2, 3); d = Rotl(d + ((a & b) | (a & c) | (b & c)) + x[7] + k2, 5); c = Rotl(c + ((d & a) | (d & b) | (a & b)) + x[11] + k2, 9); b = Rotl(b + ((c & d) | (c & a) | (d & a)) + x[15] + k2, 13);
            // Round 3: H(x,y,z) = x ^ y ^ z, plus 0x6ed9eba1
            const uint k3 = 0x6ed9eba1;
            a = Rotl(a + (b ^ c ^ d) + x[0] + k3, 3); d = Rotl(d + (a ^ b ^ c) + x[8] + k3, 9); c = Rotl(c + (d ^ a ^ b) + x[4] + k3, 11); b = Rotl(b + (c ^ d ^ a) + x[12] + k3, 15);
            a = Rotl(a + (b ^ c ^ d) + x[2] + k3, 3); d = Rotl(d + (a ^ b ^ c) + x[10] + k3, 9); c = Rotl(c + (d ^ a ^ b) + x[6] + k3, 11); b = Rotl(b + (c ^ d ^ a) + x[14] + k3, 15);
            a = Rotl(a + (b ^ c ^ d) + x[1] + k3, 3); d = Rotl(d + (a ^ b ^ c) + x[9] + k3, 9); c = Rotl(c + (d ^ a ^ b) + x[5] + k3, 11); b = Rotl(b + (c ^ d ^ a) + x[13] + k3, 15);
            a = Rotl(a + (b ^ c ^ d) + x[3] + k3, 3); d = Rotl(d + (a ^ b ^ c) + x[11] + k3, 9); c = Rotl(c + (d ^ a ^ b) + x[7] + k3, 11); b = Rotl(b + (c ^ d ^ a) + x[15] + k3, 15);
            _a += a; _b += b; _c += c; _d += d;
        }
    }
}
