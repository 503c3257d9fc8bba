using System;
using System.IO;
using System.Linq;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Platform.Native;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Platform
{
    /// <summary>Runs alone: it switches the process to the pre-openat2 walk, which every other test would then use too.</summary>
    [CollectionDefinition("Fallback walk", DisableParallelization = true)]
    public class FallbackWalkCollection { }

    [Collection("Fallback walk")]
    public class FallbackWalkTests : IDisposable
    {
        private readonly string _base = Directory.CreateTempSubdirectory("rtm-walk-").FullName;
        private readonly string _root;
        private readonly string _outside;

        public FallbackWalkTests()
        {
            _root = Path.Combine(_base, "root");
            _outside = Path.Combine(_base, "outside");
            Directory.CreateDirectory(_root);
            Directory.CreateDirectory(_outside);
            File.WriteAllText(Path.Combine(_outside, "f"), "keep");
            File.SetUnixFileMode(_outside, (UnixFileMode)0x1ED);
            Beneath.ForceWalk = true;
        }

        public void Dispose()
        {
            Beneath.ForceWalk = false;
            Directory.Delete(_base, true);
        }

        [Fact]
        public void Without_openat2_a_planted_link_still_stops_every_operation()
        {
            using var h = DirectoryHandle.Open(_root);
            h.CreateDirectory("real");
            h.CreateDirectory("real/sub");
            using (var s = h.CreateTemp("real/sub/f", out var temp)) { s.Write(new byte[] { 7 }); s.Flush(); h.Rename(temp, "real/sub/f"); }
            Assert.Equal(1, h.Stat("real/sub/f").Size);
            Assert.Single(h.List("real/sub"));

            File.CreateSymbolicLink(Path.Combine(_root, "d"), _outside);
            Assert.Equal(Errno.ELOOP, Assert.Throws<PosixException>(() => h.Stat("d/f")).Errno);
            Assert.Equal(Errno.ELOOP, Assert.Throws<PosixException>(() => h.List("d")).Errno);
            Assert.Throws<PosixException>(() => h.CreateTemp("d/x", out _));
            Assert.Throws<PosixException>(() => h.SetMetadata("d/f", new FileMeta("d/f", EntryKind.File, 0, 0, 0x1FF, -1, -1, null), false));
            Assert.Throws<PosixException>(() => h.Delete("d/f"));
            Assert.Throws<PosixException>(() => h.OpenRead("d/f", out _));
            Assert.Null(h.Stat("real/sub/f/below")); // a file as a parent is just "absent", not a planted link

            h.Delete("d");
            h.Delete("real");
            Assert.Empty(h.List(""));
            Assert.Equal(0x1ED, Raw.Mode(_outside));
            Assert.Equal(new[] { "f" }, Directory.GetFileSystemEntries(_outside).Select(Path.GetFileName));
        }
    }
}
