using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace RealtimeMirror.Engine.Watching.Inotify
{
    /// <summary>
    /// One struct inotify_event from a read(2) of the inotify descriptor: int wd; u32 mask; u32 cookie; u32 len;
    /// char name[len] (NUL-padded; len 0 when the event is about the watched directory itself). The name stays
    /// as bytes in the read buffer until the translator decodes it with PathEncoding.
    /// </summary>
    internal readonly struct InotifyEvent
    {
        public const int HeaderSize = 16;

        public InotifyEvent(int wd, uint mask, uint cookie, byte[] buffer, int nameOffset, int nameLength)
        {
            Wd = wd;
            Mask = mask;
            Cookie = cookie;
            Buffer = buffer;
            NameOffset = nameOffset;
            NameLength = nameLength;
        }

        public int Wd { get; }
        public uint Mask { get; }
        public uint Cookie { get; }
        public byte[] Buffer { get; }
        public int NameOffset { get; }
        /// <summary>The name's length in bytes without its NUL padding; 0 when there is no name.</summary>
        public int NameLength { get; }

        /// <summary>Splits the first <paramref name="length"/> bytes of a read into events (in kernel order).</summary>
        public static void Parse(byte[] buffer, int length, List<InotifyEvent> into)
        {
            // The fields are in the machine's byte order; every architecture .NET runs Linux on is little-endian.
            var span = buffer.AsSpan(0, length);
            int off = 0;
            while (off + HeaderSize <= length)
            {
                int wd = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(off));
                uint mask = BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(off + 4));
                uint cookie = BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(off + 8));
                int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(off + 12));
                int name = off + HeaderSize;
                if (len < 0 || name + len > length) break; // the kernel never splits a record; be safe anyway
                int nameLen = span.Slice(name, len).IndexOf((byte)0);
                if (nameLen < 0) nameLen = len;
                into.Add(new InotifyEvent(wd, mask, cookie, buffer, name, nameLen));
                off = name + len;
            }
        }
    }
}
