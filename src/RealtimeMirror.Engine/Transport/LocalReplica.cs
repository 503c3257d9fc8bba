using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// A replica on a local or mounted file system. The root is opened once (<see cref="Open"/>) and every
    /// operation goes through that held <see cref="DirectoryHandle"/>, so a symlink swapped into the replica tree
    /// can make an operation fail but never redirect it outside the root.
    /// </summary>
    public sealed partial class LocalReplica : IReplica
    {
        private readonly string _rootPath;
        private readonly bool _preserveOwner;
        private DirectoryHandle _root;

        public LocalReplica(string targetName, string root, bool preserveOwner = true)
        {
            TargetName = targetName;
            _rootPath = System.IO.Path.GetFullPath(root);
            _preserveOwner = preserveOwner;
        }

        public string TargetName { get; }
        public string TransportName => "Local";
        public bool CanSetOwner => _preserveOwner && Posix.IsRoot;
        /// <summary>mknod of a device needs CAP_MKNOD; fifos would work unprivileged, but one rule is easier to explain.</summary>
        public bool CanCreateSpecial => Posix.IsRoot;
        public int TimeResolutionNanos => 1;
        public bool TimesAre32Bit => false;
        public bool SeesLinkCount => true;

        private DirectoryHandle Root => _root ?? throw new InvalidOperationException($"Replica '{TargetName}' is not open: call Open first.");

        public void Open(CancellationToken cancel)
        {
            cancel.ThrowIfCancellationRequested();
            if (_root == null) _root = DirectoryHandle.OpenOrCreate(_rootPath);
        }

        public FileMeta Stat(string relativePath) => Root.Stat(relativePath);

        public List<FileMeta> List(string relativeDir) => Root.List(relativeDir);

        public void CreateDirectory(string relativePath, FileMeta meta)
        {
            Root.CreateDirectory(relativePath);
            if (meta != null) Root.SetMetadata(relativePath, meta, _preserveOwner);
        }

        public long UploadFile(DirectoryHandle source, string relativePath, CancellationToken cancel)
        {
            using var input = source.OpenRead(relativePath, out var meta);
            // The metadata of the descriptor we read, not of an earlier listing: what lands matches what was read.
            return WriteFile(relativePath, input, meta, cancel);
        }

        /// <summary>
        /// Writes <paramref name="input"/> to a temp name beside <paramref name="relativePath"/>, gives it
        /// <paramref name="meta"/> and renames it over: the one way a file lands here (uploads, restored versions).
        /// </summary>
        public long WriteFile(string relativePath, Stream input, FileMeta meta, CancellationToken cancel)
        {
            var output = Root.CreateTemp(relativePath, out var temp);
            try
            {
                long sent = 0;
                using (output)
                {
                    var buf = new byte[81920];
                    int n;
                    while ((n = input.Read(buf, 0, buf.Length)) > 0)
                    {
                        cancel.ThrowIfCancellationRequested();
                        output.Write(buf, 0, n);
                        sent += n;
                    }
                    output.Flush();
                    DirectoryHandle.SetMetadata(output.SafeFileHandle, meta, _preserveOwner);
                }
                BeforeReplace?.Invoke(relativePath); // versions: the old file moves aside now, not before the transfer
                Root.Rename(temp, relativePath);
                return sent;
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
        }

        public Stream OpenRead(string relativePath, out FileMeta meta) => Root.OpenRead(relativePath, out meta);

        public bool ContentEquals(DirectoryHandle source, string relativePath, CancellationToken cancel)
        {
            using var a = source.OpenRead(relativePath, out _);
            FileStream b;
            try { b = Root.OpenRead(relativePath, out _); }
            catch (Exception e) when (e is FileNotFoundException || e is NotRegularFileException) { return false; } // nothing equal to compare
            using (b) return a.Length == b.Length && ContentCompare.StreamsEqual(a, b, cancel);
        }

        public void ApplyMetadata(FileMeta meta) => Root.SetMetadata(meta.RelativePath, meta, _preserveOwner);

        public void CreateSymlink(FileMeta meta) =>
            CreateBesideAndRename(meta, temp => Root.CreateSymlink(meta.LinkTarget, temp));

        public void CreateSpecial(FileMeta meta)
        {
            if (!CanCreateSpecial) throw new NotSupportedException($"'{meta.RelativePath}': {meta.Kind} nodes can be made on a local replica only as root.");
            CreateBesideAndRename(meta, temp => Root.CreateSpecial(temp, meta));
        }

        public bool CanHardLink => true;

        public void CreateHardLink(string existingRelativePath, string newRelativePath)
        {
            var temp = RelativePath.Combine(RelativePath.Parent(newRelativePath) ?? "", DirectoryHandle.TempName(RelativePath.Name(newRelativePath)));
            Root.CreateHardLink(existingRelativePath, temp);
            try
            {
                Root.Rename(temp, newRelativePath);
                // rename(2) of one name of a file over another name of the same file succeeds and changes nothing:
                // the names were linked already, and the temp name is still there.
                if (Root.Stat(temp) != null) Root.Delete(temp);
            }
            catch
            {
                try { Root.Delete(temp); } catch (Exception) { /* the rename's error is the one to report */ }
                throw;
            }
        }

        /// <summary>Makes the entry under a temp name, gives it its metadata, then renames it over: never a half-made entry under the real name.</summary>
        private void CreateBesideAndRename(FileMeta meta, Action<string> create)
        {
            var temp = RelativePath.Combine(RelativePath.Parent(meta.RelativePath) ?? "", DirectoryHandle.TempName(RelativePath.Name(meta.RelativePath)));
            create(temp);
            try
            {
                Root.SetMetadata(temp, meta, _preserveOwner);
                Root.Rename(temp, meta.RelativePath);
            }
            catch
            {
                TryDelete(temp);
                throw;
            }
        }

        public void Delete(string relativePath) => Root.Delete(relativePath);

        public void Rename(string fromRelativePath, string toRelativePath)
        {
            // renameat would replace an empty directory; the planner deletes a directory first, so one here is a surprise.
            var existing = Root.Stat(toRelativePath);
            if (existing != null && existing.Kind == EntryKind.Directory)
                throw new IOException($"Refusing to rename '{fromRelativePath}' over the directory '{toRelativePath}' in replica '{TargetName}'.");
            Root.Rename(fromRelativePath, toRelativePath);
        }

        private void TryDelete(string relativePath)
        {
            try { Root.Delete(relativePath); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        public void Dispose()
        {
            _root?.Dispose();
            _root = null;
        }
    }
}
