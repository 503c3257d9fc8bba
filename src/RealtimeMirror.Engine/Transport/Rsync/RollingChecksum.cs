using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// rsync's weak checksum ("checksum1"): s1 = sum of bytes, s2 = sum of running s1, over signed bytes
    /// (rsync's buffers are signed char), packed as (s1 &amp; 0xffff) | (s2 &lt;&lt; 16). It rolls in O(1) per byte.
    /// </summary>
    public struct RollingChecksum
    {
        private uint _s1, _s2;
        private int _length;

        public uint Value => (_s1 & 0xffff) | (_s2 << 16);
        public int Length => _length;

        public static uint Compute(byte[] buf, int offset, int count)
        {
            var r = new RollingChecksum();
            r.Reset(buf, offset, count);
            return r.Value;
        }

        public void Reset(byte[] buf, int offset, int count)
        {
            var data = new ReadOnlySpan<byte>(buf, offset, count);
            uint s1 = 0, s2 = 0;
            int done = Avx2.IsSupported ? SumChunksAvx2(data, out s1, out s2) : 0;
            for (int i = done; i < data.Length; i++)
            {
                s1 += (uint)(sbyte)data[i];
                s2 += s1;
            }
            _s1 = s1; _s2 = s2; _length = count;
        }

        // Bytes 0..15 and 16..31 of a 32-byte chunk weigh 32..17 and 16..1 in s2 (see SumChunksAvx2).
        private static readonly Vector256<short> WeightsLow = Vector256.Create((short)32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17);
        private static readonly Vector256<short> WeightsHigh = Vector256.Create((short)16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);

        /// <summary>
        /// s1 and s2 over the whole 32-byte chunks of <paramref name="data"/>; returns how many bytes that covered.
        /// A sender spends most of a big unchanged file here (a fresh sum for every matched block), and the scalar loop
        /// is one dependent add per byte: this does 32 bytes in a few instructions, as rsync's own SIMD checksum1 does.
        /// Per chunk y[0..31]: s2 += 32 * s1 + sum((32 - j) * y[j]) and s1 += sum(y[j]); sums wrap mod 2^32 exactly as
        /// the scalar ones, so any order of adding gives the same bits.
        /// </summary>
        private static int SumChunksAvx2(ReadOnlySpan<byte> data, out uint s1, out uint s2)
        {
            int chunks = data.Length / 32;
            ref byte start = ref MemoryMarshal.GetReference(data);
            var ones = Vector256.Create((short)1);
            Vector256<int> bytesSum = Vector256<int>.Zero, s1BeforeEachChunk = Vector256<int>.Zero, weighted = Vector256<int>.Zero;
            for (int c = 0; c < chunks; c++)
            {
                var chunk = Vector256.LoadUnsafe(ref start, (nuint)(c * 32)).AsSByte();
                var low = Avx2.ConvertToVector256Int16(chunk.GetLower());   // sign-extended: rsync sums signed chars
                var high = Avx2.ConvertToVector256Int16(chunk.GetUpper());
                s1BeforeEachChunk += bytesSum;
                bytesSum += Avx2.MultiplyAddAdjacent(low, ones) + Avx2.MultiplyAddAdjacent(high, ones);
                weighted += Avx2.MultiplyAddAdjacent(low, WeightsLow) + Avx2.MultiplyAddAdjacent(high, WeightsHigh);
            }
            s1 = (uint)Vector256.Sum(bytesSum);
            s2 = 32u * (uint)Vector256.Sum(s1BeforeEachChunk) + (uint)Vector256.Sum(weighted);
            return chunks * 32;
        }

        /// <summary>Drops the first byte of the window and appends one: the window slides by one byte.</summary>
        public void Roll(byte outByte, byte inByte)
        {
            uint o = (uint)(sbyte)outByte;
            _s1 = _s1 - o + (uint)(sbyte)inByte;
            _s2 = _s2 - (uint)_length * o + _s1;
        }

        /// <summary>Drops the first byte only: the window shrinks at the end of the file.</summary>
        public void Shrink(byte outByte)
        {
            uint o = (uint)(sbyte)outByte;
            _s1 -= o;
            _s2 -= (uint)_length * o;
            _length--;
        }
    }
}
