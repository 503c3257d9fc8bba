using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>A replica on a local or mounted file system.</summary>
    public sealed class LocalReplica : IReplica
    {
        private readonly string _root;
        private readonly bool _preserveOwner;

        public LocalReplica(string targetName, string root, bool preserveOwner = true)
        {
            TargetName = targetName;
            _root = Path.GetFullPath(root);
            _preserveOwner = preserveOwner;
        }

        public string TargetName { get; }
        public string TransportName => "Local";
        public bool CanSetOwner => _preserveOwner && Platform.Posix.IsRoot;

        private string Full(string rel) => RelativePath.ToFull(_root, RelativePath.Normalize(rel));

        public void Open(CancellationToken cancel) => Directory.CreateDirectory(_root);

        public FileMeta Stat(string relativePath) => LocalFileSystem.Stat(Full(relativePath), relativePath);

        public IEnumerable<FileMeta> Walk(string relativeDir) => LocalFileSystem.Walk(_root, GlobFilter.None, null, relativeDir);

        public void CreateDirectory(string relativePath, FileMeta meta)
        {
            Directory.CreateDirectory(Full(relativePath));
            if (meta != null) LocalFileSystem.ApplyMetadata(Full(relativePath), meta, _preserveOwner);
        }

        public long UploadFile(string localFullPath, FileMeta meta, CancellationToken cancel)
        {
            var final = Full(meta.RelativePath);
            var temp = Path.Combine(Path.GetDirectoryName(final), ContentCompare.TempNameFor(Path.GetFileName(final)));
            long sent = 0;
            try
            {
                using (var input = LocalFileSystem.OpenForReading(localFullPath))
                using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920))
                {
                    var buf = new byte[81920];
                    int n;
                    while ((n = input.Read(buf, 0, buf.Length)) > 0)
                    {
                        cancel.ThrowIfCancellationRequested();
                        output.Write(buf, 0, n);
                        sent += n;
                    }
                }
                LocalFileSystem.ApplyMetadata(temp, meta, _preserveOwner);
                LocalFileSystem.ReplaceAtomically(temp, final);
                return sent;
            }
            catch
            {
                TryDeleteFile(temp);
                throw;
            }
        }

        public bool ContentEquals(string localFullPath, string relativePath, CancellationToken cancel)
        {
            using (var a = LocalFileSystem.OpenForReading(localFullPath))
            using (var b = LocalFileSystem.OpenForReading(Full(relativePath)))
                return a.Length == b.Length && ContentCompare.StreamsEqual(a, b, cancel);
        }

        public void ApplyMetadata(FileMeta meta) => LocalFileSystem.ApplyMetadata(Full(meta.RelativePath), meta, _preserveOwner);

        public void CreateSymlink(FileMeta meta)
        {
            var final = Full(meta.RelativePath);
            var temp = Path.Combine(Path.GetDirectoryName(final), ContentCompare.TempNameFor(Path.GetFileName(final)));
            LocalFileSystem.CreateSymlink(meta.LinkTarget, temp);
            try
            {
                LocalFileSystem.ApplyMetadata(temp, meta, _preserveOwner);
                LocalFileSystem.ReplaceAtomically(temp, final);
            }
            catch { TryDeleteFile(temp); throw; }
        }

        public void Delete(string relativePath, bool isDirectory)
        {
            if (string.IsNullOrEmpty(RelativePath.Normalize(relativePath)))
                throw new InvalidOperationException("Refusing to delete the replica root itself.");
            var full = Full(relativePath);
            var meta = LocalFileSystem.Stat(full, relativePath);
            if (meta == null) return;
            if (meta.Kind == EntryKind.Directory) DeleteTree(full);
            else File.Delete(full);
        }

        /// <summary>Recursive delete that removes symlinks as links and never follows them out of the root.</summary>
        private static void DeleteTree(string dir)
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
            {
                var attrs = File.GetAttributes(entry);
                if ((attrs & FileAttributes.Directory) != 0 && (attrs & FileAttributes.ReparsePoint) == 0) DeleteTree(entry);
                else if ((attrs & FileAttributes.Directory) != 0) Directory.Delete(entry);
                else File.Delete(entry);
            }
            Directory.Delete(dir);
        }

        public void Rename(string fromRelativePath, string toRelativePath)
        {
            var from = Full(fromRelativePath);
            var to = Full(toRelativePath);
            var existing = LocalFileSystem.Stat(to, toRelativePath);
            if (existing != null && existing.Kind == EntryKind.Directory) DeleteTree(to);
            if (Platform.Posix.IsAvailable) LocalFileSystem.ReplaceAtomically(from, to);
            else if (Directory.Exists(from)) Directory.Move(from, to);
            else LocalFileSystem.ReplaceAtomically(from, to);
        }

        private static void TryDeleteFile(string path)
        {
            try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }


        // Transitional members of the new IReplica contract (filled in by the confinement work).
        public bool CanCreateSpecial => false;
        public int TimeResolutionNanos => 1;
        public List<FileMeta> List(string relativeDir) => throw new NotImplementedException();
        public long UploadFile(DirectoryHandle source, string relativePath, CancellationToken cancel) => throw new NotImplementedException();
        public bool ContentEquals(DirectoryHandle source, string relativePath, CancellationToken cancel) => throw new NotImplementedException();
        public void CreateSpecial(FileMeta meta) => throw new NotSupportedException();
        public void Delete(string relativePath) => Delete(relativePath, false);

        public void Dispose() { }
    }
}
