using System;
using System.Collections.Generic;
using System.IO;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;

namespace RealtimeMirror.Engine.Platform
{
    /// <summary>Reads and writes the metadata we mirror (mode, owner, group, mtime, links) on the local OS.</summary>
    public static class LocalFileSystem
    {
        public static bool SupportsOwnership => Posix.IsAvailable;

        /// <summary>Metadata of a path without following a symlink; null when it does not exist.</summary>
        public static FileMeta Stat(string fullPath, string relativePath)
        {
            if (Posix.IsAvailable)
            {
                if (!Posix.TryLStat(fullPath, out var st)) return null;
                var kind = st.IsDirectory ? EntryKind.Directory : st.IsSymlink ? EntryKind.Symlink : EntryKind.File;
                if (!st.IsDirectory && !st.IsSymlink && !st.IsRegular) return null; // devices, fifos, sockets are not mirrored
                string link = kind == EntryKind.Symlink ? Posix.ReadLink(fullPath) : null;
                long size = kind == EntryKind.File ? st.Size : kind == EntryKind.Symlink ? link.Length : 0;
                return new FileMeta(relativePath, kind, size, st.MTime, st.Mode & 0xFFF, st.Uid, st.Gid, link);
            }
            return StatPortable(fullPath, relativePath);
        }

        private static FileMeta StatPortable(string fullPath, string relativePath)
        {
            var fi = new FileInfo(fullPath);
            if ((int)fi.Attributes == -1) return null;
            bool isLink = (fi.Attributes & FileAttributes.ReparsePoint) != 0;
            bool isDir = (fi.Attributes & FileAttributes.Directory) != 0;
            long mtime = ToUnix(fi.LastWriteTimeUtc);
            if (isDir && !isLink) return new FileMeta(relativePath, EntryKind.Directory, 0, mtime, 0x1ED /*0755*/, -1, -1, null);
            if (!fi.Exists && !isLink) return null;
            int mode = (fi.Attributes & FileAttributes.ReadOnly) != 0 ? 0x124 /*0444*/ : 0x1A4 /*0644*/;
            return new FileMeta(relativePath, EntryKind.File, isLink ? 0 : fi.Length, mtime, mode, -1, -1, null);
        }

        /// <summary>
        /// Opens a source file for reading while others may go on writing, renaming or deleting it: a busy file
        /// server does not stop for us, and changes made meanwhile are caught by the next event or compare.
        /// </summary>
        public static FileStream OpenForReading(string fullPath, FileOptions options = FileOptions.None) =>
            new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, options);

        public static long ToUnix(DateTime utc) => (long)Math.Floor((utc - UnixEpoch).TotalSeconds);
        public static DateTime FromUnix(long seconds) => UnixEpoch.AddSeconds(seconds);
        public static readonly DateTime UnixEpoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        /// <summary>Applies mode, owner/group (only when permitted) and mtime, in the order that keeps mtime last.</summary>
        public static void ApplyMetadata(string fullPath, FileMeta meta, bool preserveOwner)
        {
            if (Posix.IsAvailable)
            {
                if (preserveOwner && meta.Uid >= 0 && Posix.IsRoot) Posix.TryLChown(fullPath, (int)meta.Uid, (int)meta.Gid);
                else if (preserveOwner && meta.Gid >= 0) Posix.TryLChown(fullPath, -1, (int)meta.Gid); // a member may set its group
                if (meta.Kind != EntryKind.Symlink && meta.Mode >= 0) Posix.Chmod(fullPath, meta.Mode);
                Posix.SetTimes(fullPath, meta.MTime);
                return;
            }
            if (meta.Kind == EntryKind.Directory) Directory.SetLastWriteTimeUtc(fullPath, FromUnix(meta.MTime));
            else if (meta.Kind == EntryKind.File)
            {
                var fi = new FileInfo(fullPath);
                bool readOnly = meta.Mode >= 0 && (meta.Mode & 0x80) == 0;
                if (fi.IsReadOnly) fi.IsReadOnly = false;
                File.SetLastWriteTimeUtc(fullPath, FromUnix(meta.MTime));
                fi.IsReadOnly = readOnly;
            }
        }

        public static void CreateSymlink(string target, string fullPath)
        {
            if (!Posix.IsAvailable) throw new PlatformNotSupportedException("Symlinks are mirrored only on Linux sources and local targets.");
            Posix.Symlink(target, fullPath);
        }

        /// <summary>Moves a finished temp file over its final name atomically.</summary>
        public static void ReplaceAtomically(string tempPath, string finalPath)
        {
            if (Posix.IsAvailable) { Posix.Rename(tempPath, finalPath); return; }
            if (File.Exists(finalPath)) File.Replace(tempPath, finalPath, null, true);
            else File.Move(tempPath, finalPath);
        }

        /// <summary>
        /// Walks a tree depth-first, parents before children, without following directory symlinks.
        /// Entries that vanish mid-walk are skipped; unreadable directories are reported and skipped.
        /// </summary>
        public static IEnumerable<FileMeta> Walk(string root, GlobFilter exclude, Action<string, Exception> onError = null, string startAt = "")
        {
            exclude = exclude ?? GlobFilter.None;
            var stack = new Stack<string>();
            stack.Push(startAt ?? "");
            while (stack.Count > 0)
            {
                var dirRel = stack.Pop();
                string[] names;
                try
                {
                    var dirFull = RelativePath.ToFull(root, dirRel);
                    var list = new List<string>();
                    foreach (var p in Directory.EnumerateFileSystemEntries(dirFull)) list.Add(Path.GetFileName(p));
                    names = list.ToArray();
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    onError?.Invoke(dirRel, e);
                    continue;
                }
                Array.Sort(names, StringComparer.Ordinal);
                var subdirs = new List<string>();
                foreach (var name in names)
                {
                    var rel = RelativePath.Combine(dirRel, name);
                    if (exclude.IsExcluded(rel)) continue;
                    FileMeta meta;
                    try { meta = Stat(RelativePath.ToFull(root, rel), rel); }
                    catch (Exception e) { onError?.Invoke(rel, e); continue; }
                    if (meta == null) continue;
                    yield return meta;
                    if (meta.Kind == EntryKind.Directory) subdirs.Add(rel);
                }
                for (int i = subdirs.Count - 1; i >= 0; i--) stack.Push(subdirs[i]);
            }
        }
    }
}
