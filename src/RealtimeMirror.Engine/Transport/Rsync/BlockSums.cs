using System;
using System.IO;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>The receiver's block checksums of its old version of one file. Read as hostile input: every size is bounded.</summary>
    internal sealed class BlockSums
    {
        /// <summary>rsync's own cap for protocol 30+ (MAX_BLOCK_SIZE); a stock receiver stays below it for files up to 16 GiB.</summary>
        public const int MaxBlockLength = 128 * 1024;
        /// <summary>Protocol 27 lets the block grow as sqrt(file size) past 128 KiB; then it never exceeds the block count.
        /// This cap (files up to 64 TiB) keeps our sliding buffer bounded whatever the server says.</summary>
        public const int MaxSqrtBlockLength = 8 * 1024 * 1024;
        /// <summary>sqrt-sized blocks give about 2^23 blocks for 64 TiB; beyond that the server is not a stock rsync.</summary>
        public const int MaxCount = 1 << 24;
        public const int MaxStrongLength = 16;

        public int Count, BlockLength, StrongLength, Remainder;
        public uint[] Weak;
        public byte[] Strong; // Count * StrongLength

        public int LengthOf(int block) => block == Count - 1 && Remainder != 0 ? Remainder : BlockLength;

        /// <param name="protocol">From 30 on the block length is capped at 128 KiB whatever the file size.</param>
        /// <param name="maxStrong">The negotiated checksum's digest length: a longer strong sum is refused.</param>
        public static BlockSums Read(ServerInput input, int protocol = 27, int maxStrong = MaxStrongLength)
        {
            var s = new BlockSums { Count = input.ReadInt(), BlockLength = input.ReadInt(), StrongLength = input.ReadInt(), Remainder = input.ReadInt() };
            if (!s.IsPlausible() || s.StrongLength > maxStrong || protocol >= 30 && s.BlockLength > MaxBlockLength ||
                s.Count > MaxCountFor(s.BlockLength, protocol))
                throw new InvalidDataException($"Bad checksum header from the rsync server (count {s.Count}, block length {s.BlockLength}, " +
                    $"strong length {s.StrongLength}, remainder {s.Remainder}).");
            // Grown as the sums arrive: a claimed count alone must not make us allocate hundreds of megabytes.
            int capacity = Math.Min(s.Count, 1 << 16);
            s.Weak = new uint[capacity];
            s.Strong = new byte[capacity * s.StrongLength];
            var four = new byte[4];
            for (int i = 0; i < s.Count; i++)
            {
                if (i == capacity)
                {
                    capacity = (int)Math.Min(s.Count, 2L * capacity);
                    Array.Resize(ref s.Weak, capacity);
                    Array.Resize(ref s.Strong, capacity * s.StrongLength);
                }
                input.Read(four, 0, 4);
                s.Weak[i] = BitConverter.ToUInt32(four, 0);
                input.Read(s.Strong, i * s.StrongLength, s.StrongLength);
            }
            return s;
        }

        /// <summary>
        /// A stock receiver makes blocks of about the square root of its basis (at least 700 bytes, a multiple of 8), so
        /// a basis has about as many blocks as a block has bytes, unless the block length met the protocol's cap (128 KiB
        /// from 30 on, for a basis past 16 GiB). A count well past that describes no file a stock rsync sums, and would
        /// only make us hold its sums; the slack covers the rounding and older receivers.
        /// </summary>
        internal static int MaxCountFor(int blockLength, int protocol) =>
            protocol >= 30 && blockLength == MaxBlockLength ? MaxCount : (int)Math.Min(MaxCount, 2L * blockLength + 1024);

        private bool IsPlausible()
        {
            if (Count < 0 || Count > MaxCount || StrongLength < 0 || StrongLength > MaxStrongLength) return false;
            // No basis (all zero) or an empty one (a block length, nothing left over).
            if (Count == 0) return BlockLength >= 0 && BlockLength <= MaxSqrtBlockLength && Remainder == 0;
            bool blockOk = BlockLength > 0 && (BlockLength <= MaxBlockLength || BlockLength <= Math.Min(Count, MaxSqrtBlockLength));
            return blockOk && StrongLength > 0 && Remainder >= 0 && Remainder < BlockLength;
        }

        public void WriteHead(ServerOutput output)
        {
            output.WriteInt(Count); output.WriteInt(BlockLength); output.WriteInt(StrongLength); output.WriteInt(Remainder);
        }
    }
}
