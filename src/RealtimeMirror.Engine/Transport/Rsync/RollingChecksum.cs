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
            uint s1 = 0, s2 = 0;
            for (int i = 0; i < count; i++)
            {
                s1 += (uint)(sbyte)buf[offset + i];
                s2 += s1;
            }
            _s1 = s1; _s2 = s2; _length = count;
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
