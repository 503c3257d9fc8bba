using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using static RealtimeMirror.Engine.Platform.Native.FanotifyMask;

namespace RealtimeMirror.Engine.Watching.Fanotify
{
    /// <summary>
    /// One directory file handle (and maybe a name) from an event's info record:
    /// struct fanotify_event_info_fid { u8 info_type; u8 pad; u16 len; __kernel_fsid_t fsid; struct file_handle
    /// { u32 handle_bytes; s32 handle_type; u8 f_handle[handle_bytes]; }; char name[] (NUL-terminated, DFID_NAME) }.
    /// </summary>
    internal readonly struct FanotifyHandle
    {
        public FanotifyHandle(byte[] buffer, int recordOffset, int handleBytes, int nameOffset, int nameLength)
        {
            Buffer = buffer;
            RecordOffset = recordOffset;
            HandleBytes = handleBytes;
            NameOffset = nameOffset;
            NameLength = nameLength;
        }

        public byte[] Buffer { get; }
        public int RecordOffset { get; }
        public int HandleBytes { get; }
        /// <summary>-1: the record has no name (the event is about the directory itself).</summary>
        public int NameOffset { get; }
        public int NameLength { get; }

        public bool IsSet => Buffer != null;
        /// <summary>No name, or "." (the kernel's way of saying the event is about the directory itself).</summary>
        public bool IsSelf => NameOffset < 0 || (NameLength == 1 && Buffer[NameOffset] == (byte)'.');
        /// <summary>Where struct file_handle starts (the form open_by_handle_at takes).</summary>
        public int FileHandleOffset => RecordOffset + 12;

        /// <summary>The map's key: fsid, handle type and handle bytes, one char per byte.</summary>
        public string Key() => HandleKey.Of(Buffer.AsSpan(RecordOffset + 4, 8), Buffer.AsSpan(RecordOffset + 16, 4), Buffer.AsSpan(RecordOffset + 20, HandleBytes));
    }

    /// <summary>How a directory is named in the handle map: the same key from an event and from name_to_handle_at.</summary>
    internal static class HandleKey
    {
        public static string Of(ReadOnlySpan<byte> fsid, ReadOnlySpan<byte> type, ReadOnlySpan<byte> handle)
        {
            Span<char> chars = stackalloc char[12 + handle.Length];
            for (int i = 0; i < 8; i++) chars[i] = (char)fsid[i];
            for (int i = 0; i < 4; i++) chars[8 + i] = (char)type[i];
            for (int i = 0; i < handle.Length; i++) chars[12 + i] = (char)handle[i];
            return new string(chars);
        }
    }

    /// <summary>
    /// One event from a read(2) of a fanotify group made with FAN_REPORT_DFID_NAME: struct fanotify_event_metadata
    /// { u32 event_len; u8 vers; u8 reserved; u16 metadata_len; u64 mask; s32 fd; s32 pid; } then info records.
    /// The handles and names stay as bytes in the read buffer until the translator looks them up.
    /// </summary>
    internal readonly struct FanotifyEvent
    {
        public const int MetadataSize = 24;

        public FanotifyEvent(ulong mask, int fd, FanotifyHandle dir, FanotifyHandle oldDir, FanotifyHandle newDir, FanotifyHandle target)
        {
            Target = target;
            Mask = mask;
            Fd = fd;
            Dir = dir;
            OldDir = oldDir;
            NewDir = newDir;
        }

        public ulong Mask { get; }
        /// <summary>FAN_NOFD (-1) in handle mode; closed by the parser if the kernel ever gives one.</summary>
        public int Fd { get; }
        /// <summary>DFID_NAME or DFID: the directory, and the entry's name in it.</summary>
        public FanotifyHandle Dir { get; }
        /// <summary>FAN_RENAME: where the entry was and where it is now.</summary>
        public FanotifyHandle OldDir { get; }
        public FanotifyHandle NewDir { get; }
        /// <summary>
        /// FID (FAN_REPORT_FID + FAN_REPORT_TARGET_FID): the object itself, also for entries created, deleted or
        /// moved. It tells which directory moved or went even when the map is behind, and it keeps the kernel from
        /// merging events about two different objects of one name.
        /// </summary>
        public FanotifyHandle Target { get; }

        /// <summary>Splits the first <paramref name="length"/> bytes of a read into events (in kernel order).</summary>
        public static void Parse(byte[] buffer, int length, List<FanotifyEvent> into, Action<int> closeFd = null)
        {
            // The fields are in the machine's byte order; every architecture .NET runs Linux on is little-endian.
            var span = buffer.AsSpan(0, length);
            int off = 0;
            while (off + MetadataSize <= length)
            {
                int eventLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(off));
                int metaLen = BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(off + 6));
                if (eventLen < MetadataSize || off + eventLen > length || metaLen < MetadataSize || metaLen > eventLen) break;
                ulong mask = BinaryPrimitives.ReadUInt64LittleEndian(span.Slice(off + 8));
                int fd = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(off + 16));
                if (fd >= 0) closeFd?.Invoke(fd);
                FanotifyHandle dir = default, oldDir = default, newDir = default, target = default;
                int info = off + metaLen, end = off + eventLen;
                while (info + 4 <= end)
                {
                    byte type = span[info];
                    int len = BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(info + 2));
                    if (len < 4 || info + len > end) break;
                    if ((type == FAN_EVENT_INFO_TYPE_FID || type == FAN_EVENT_INFO_TYPE_DFID_NAME || type == FAN_EVENT_INFO_TYPE_DFID || type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME ||
                         type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME) && len >= 20)
                    {
                        int hb = (int)BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(info + 12));
                        if (hb >= 0 && 20 + hb <= len)
                        {
                            int nameOff = -1, nameLen = 0;
                            if (type != FAN_EVENT_INFO_TYPE_DFID && type != FAN_EVENT_INFO_TYPE_FID && 20 + hb < len)
                            {
                                nameOff = info + 20 + hb;
                                nameLen = span.Slice(nameOff, info + len - nameOff).IndexOf((byte)0);
                                if (nameLen < 0) nameLen = info + len - nameOff;
                                if (nameLen == 0) nameOff = -1;
                            }
                            var h = new FanotifyHandle(buffer, info, hb, nameOff, nameLen);
                            if (type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME) oldDir = h;
                            else if (type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME) newDir = h;
                            else if (type == FAN_EVENT_INFO_TYPE_FID) target = h;
                            else dir = h;
                        }
                    }
                    info += len;
                }
                into.Add(new FanotifyEvent(mask, fd, dir, oldDir, newDir, target));
                off += eventLen;
            }
        }
    }
}
