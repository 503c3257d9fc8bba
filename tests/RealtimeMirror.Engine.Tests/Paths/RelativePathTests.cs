using System;
using RealtimeMirror.Engine.Paths;
using Xunit;

namespace RealtimeMirror.Engine.Tests.PathRules
{
    /// <summary>Relative paths never leave their root: "..", and on Windows drive-relative and stream names.</summary>
    public class RelativePathTests
    {
        [Theory]
        [InlineData("C:x")]
        [InlineData("dir/file.txt:hidden")]
        [InlineData("a/C:/b")]
        public void Windows_refuses_drive_relative_and_stream_names(string path)
        {
            Assert.Throws<ArgumentException>(() => RelativePath.Normalize(path, windows: true));
            Assert.Equal(path.Replace("//", "/").Trim('/'), RelativePath.Normalize(path, windows: false)); // ':' is an ordinary byte on Linux
        }

        [Fact]
        public void Dot_dot_is_refused_everywhere_and_backslash_is_a_separator_only_on_Windows()
        {
            Assert.Throws<ArgumentException>(() => RelativePath.Normalize("a/../../etc", windows: false));
            Assert.Throws<ArgumentException>(() => RelativePath.Normalize("a\\..\\..\\etc", windows: true));
            Assert.Equal("a\\b", RelativePath.Normalize("a\\b", windows: false));
            Assert.Equal("a/b", RelativePath.Normalize("a\\b", windows: true));
        }
    }
}
