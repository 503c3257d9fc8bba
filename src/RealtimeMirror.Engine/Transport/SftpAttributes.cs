using System;
using System.Collections.Generic;
using System.Reflection;
using RealtimeMirror.Engine.Planning;
using Renci.SshNet.Sftp;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// SFTP v3 attributes both ways. SSH.NET sends only the fields whose value differs from the one the object was
    /// built with, so we build objects whose "original" values differ from exactly the fields we mean to set: one
    /// request can then carry only the owner (chown must come first: it clears set-uid/set-gid) and the next only
    /// mode and times. Ids are unsigned 32-bit on the wire; SSH.NET holds them in an int, so they pass as bit patterns.
    /// </summary>
    internal static class SftpAttributes
    {
        private static readonly ConstructorInfo Ctor = typeof(SftpFileAttributes).GetConstructor(
            BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null,
            new[] { typeof(DateTime), typeof(DateTime), typeof(long), typeof(int), typeof(int), typeof(uint), typeof(Dictionary<string, string>) }, null)
            ?? throw new NotSupportedException("This SSH.NET build lacks the SftpFileAttributes constructor RealtimeMirror needs.");
        private static readonly PropertyInfo PermissionsProperty =
            typeof(SftpFileAttributes).GetProperty("Permissions", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
            ?? throw new NotSupportedException("This SSH.NET build lacks SftpFileAttributes.Permissions.");

        private static readonly DateTime Epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        /// <summary>Attributes that set only the owner and group.</summary>
        public static SftpFileAttributes Owner(long uid, long gid)
        {
            int u = unchecked((int)(uint)uid), g = unchecked((int)(uint)gid);
            var a = New(Epoch, Epoch, unchecked(u + 1), unchecked(g + 1), 0);
            a.UserId = u;
            a.GroupId = g;
            return a;
        }

        /// <summary>Attributes that set only the permission bits (07777).</summary>
        public static SftpFileAttributes Mode(int mode)
        {
            var a = New(Epoch, Epoch, 0, 0, 0xFFFFFFFF);
            PermissionsProperty.SetValue(a, (uint)(mode & 0xFFF));
            return a;
        }

        /// <summary>Attributes that set mode (when <paramref name="mode"/> &gt;= 0) and mtime in Unix seconds (atime = now).</summary>
        public static SftpFileAttributes ModeAndTime(int mode, long mtime)
        {
            var a = mode >= 0 ? Mode(mode) : New(Epoch, Epoch, 0, 0, 0);
            // Both times travel together in SFTP v3; making atime "changed" is enough to send the pair.
            a.LastAccessTimeUtc = DateTime.UtcNow;
            // SFTP v3 carries an unsigned 32-bit time: clamp rather than let it wrap to a date far off.
            a.LastWriteTimeUtc = Epoch.AddSeconds(Math.Clamp(mtime, 0L, uint.MaxValue));
            return a;
        }

        private static SftpFileAttributes New(DateTime atime, DateTime mtime, int uid, int gid, uint perms) =>
            (SftpFileAttributes)Ctor.Invoke(new object[] { atime, mtime, 0L, uid, gid, perms, null });

        /// <summary>Permission bits (07777) as the server reported them.</summary>
        public static int ModeOf(SftpFileAttributes a) => (int)((uint)PermissionsProperty.GetValue(a) & 0xFFF);

        public static EntryKind? KindOf(SftpFileAttributes a) =>
            a.IsDirectory ? EntryKind.Directory : a.IsSymbolicLink ? EntryKind.Symlink : a.IsRegularFile ? EntryKind.File :
            a.IsNamedPipe ? EntryKind.Fifo : a.IsSocket ? EntryKind.Socket : a.IsCharacterDevice ? EntryKind.CharDevice :
            a.IsBlockDevice ? EntryKind.BlockDevice : (EntryKind?)null;

        /// <summary>FileMeta of one lstat'ed entry (SFTP v3 has whole seconds and no inode); null for an unknown type.</summary>
        public static FileMeta ToMeta(string relativePath, SftpFileAttributes a, string linkTarget)
        {
            var kind = KindOf(a);
            if (kind == null) return null;
            long size = kind == EntryKind.Directory || kind >= EntryKind.Fifo ? 0 : a.Size;
            long mtime = (long)Math.Floor((a.LastWriteTimeUtc - Epoch).TotalSeconds);
            return new FileMeta(relativePath, kind.Value, size, mtime, ModeOf(a), (long)(uint)a.UserId, (long)(uint)a.GroupId, linkTarget);
        }
    }
}
