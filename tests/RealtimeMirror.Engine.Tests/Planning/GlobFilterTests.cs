using RealtimeMirror.Engine.Paths;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Planning
{
    public class GlobFilterTests
    {
        [Theory]
        [InlineData("*.swp", "a/b/.x.swp", true)]
        [InlineData("*~", "notes.txt~", true)]
        [InlineData("*.tmp", "a.tmp/inside", true)]      // excluded directory excludes its contents
        [InlineData("cache", "x/cache/y", true)]
        [InlineData("logs/*.log", "logs/a.log", true)]
        [InlineData("logs/*.log", "logs/sub/a.log", false)]
        [InlineData("logs/**", "logs/sub/a.log", true)]
        [InlineData("*.tmp", "tmp.txt", false)]
        [InlineData("[ab].txt", "b.txt", true)]
        [InlineData("?.txt", "ab.txt", false)]
        public void Matches_like_rsync_excludes(string pattern, string path, bool excluded) =>
            Assert.Equal(excluded, new GlobFilter(new[] { pattern }).IsExcluded(path));

        [Theory]
        [InlineData("/build", "build", null, true)]            // a leading '/' anchors at the root
        [InlineData("/build", "src/build", null, false)]
        [InlineData("build", "src/build", null, true)]         // a name matches at any depth
        [InlineData("cache/", "x/cache", true, true)]          // a trailing '/' matches directories only
        [InlineData("cache/", "x/cache", false, false)]
        [InlineData("cache/", "x/cache/file", false, true)]    // ... and what is below them
        [InlineData("a/cache/", "a/cache", false, false)]
        [InlineData("a/cache/", "a/cache", true, true)]
        [InlineData("**/tmp/", "x/y/tmp", true, true)]
        [InlineData("logs/*.log", "x/logs/a.log", false, true)]  // a '/' inside: the end of the path, at any depth
        [InlineData("logs/*.log", "xlogs/a.log", false, false)]  // ... at a name boundary
        [InlineData("/logs/*.log", "x/logs/a.log", false, false)]
        [InlineData("a/**/z.log", "a/b/c/z.log", false, true)]   // '**' crosses levels
        [InlineData("a/**/z.log", "a/z.log", false, false)]      // ... but "/**/" needs one level between, as in rsync
        [InlineData("a/**/z.log", "a/xz.log", false, false)]
        [InlineData("a/**/z.log", "q/a/b/z.log", false, true)]
        [InlineData("**/tmp", "tmp", true, false)]               // a leading '**' still needs the '/'
        [InlineData("dir/***", "dir", true, true)]               // the directory and all in it
        [InlineData("dir/***", "dir/f", false, true)]
        [InlineData("[!a].txt", "b.txt", false, true)]
        [InlineData("[!a].txt", "a.txt", false, false)]
        [InlineData("\\*.txt", "*.txt", false, true)]           // an escaped wildcard is literal
        [InlineData("\\*.txt", "a.txt", false, false)]
        public void Follows_rsync_anchoring_and_directory_only_rules(string pattern, string path, bool? isDirectory, bool excluded) =>
            Assert.Equal(excluded, new GlobFilter(new[] { pattern }).IsExcluded(path, isDirectory));

        [Fact]
        public void Utf8_order_puts_a_directory_right_before_its_contents()
        {
            var names = new System.Collections.Generic.List<string> { "a.b", "a/x", "a", "a-b", "é", "z" };
            names.Sort(RelativePath.Utf8Order);
            Assert.Equal(new[] { "a", "a-b", "a.b", "a/x", "z", "é" }, names);
        }

        [Fact]
        public void Normalize_refuses_to_climb_out_of_the_root()
        {
            Assert.Throws<System.ArgumentException>(() => RelativePath.Normalize("a/../../etc"));
            Assert.Equal("a/b", RelativePath.Normalize("./a//b/"));
        }
    }
}
