using System.IO;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;

namespace RealtimeMirror.Engine.Transport
{
    public sealed partial class SftpReplica : Versions.IReplaceAside
    {
        public System.Action<string> BeforeReplace { get; set; }

        public Stream OpenRead(string relativePath, out FileMeta meta)
        {
            var rel = RelativePath.Normalize(relativePath);
            var self = Guard.CheckRead(rel) ?? throw new FileNotFoundException($"Replica entry '{rel}' does not exist.");
            meta = ToMeta(rel, self) ?? throw new FileNotFoundException($"Replica entry '{rel}' does not exist.");
            // Only a regular file is opened: the open below would follow a link at the final name.
            if (meta.Kind != EntryKind.File) throw new NotRegularFileException(rel, meta.Kind);
            var handle = _raw.Open(_guard.Remote(rel), RawSftpRequests.OpenRead);
            return new SftpReadStream(_raw, handle, meta.Size);
        }
    }
}
