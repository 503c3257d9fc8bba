using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RealtimeMirror.Engine.Service.Logging;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Service.Logging
{
    /// <summary>One line per record whatever the name holds; rotation keeps FILE.1..FILE.5; writers on many threads.</summary>
    public class FileLogTests : IDisposable
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "rtm-filelog-" + Guid.NewGuid().ToString("N").Substring(0, 8));

        public void Dispose() { try { Directory.Delete(_dir, true); } catch (Exception) { } }

        private static LogRecord Copied(string path, long bytes = 10) => new LogRecord(MirrorLogLevel.Info, "backup", path, "Copied", null, bytes);

        [Fact]
        public void A_name_with_newlines_quotes_and_undecodable_bytes_stays_on_one_line()
        {
            var line = LogLine.Format(Copied("a\nb \"c\"\\d caf\uDCE9.txt"));
            Assert.DoesNotContain("\n", line);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO target=backup action=Copied path=""a\\nb \\""c\\""\\\\d caf\\xe9\.txt"" bytes=10$", line);
            Assert.EndsWith("path=plain.txt bytes=10", LogLine.Format(Copied("plain.txt")));
        }

        [Fact]
        public void Rotates_past_the_size_keeping_five_old_files()
        {
            var path = Path.Combine(_dir, "m.log");
            using (var log = new FileLog(path, 1024))
                for (int i = 0; i < 400; i++) log.Write(Copied($"file-{i:D4}.txt"));
            var files = Directory.GetFiles(_dir).Select(Path.GetFileName).OrderBy(n => n).ToArray();
            Assert.Equal(new[] { "m.log", "m.log.1", "m.log.2", "m.log.3", "m.log.4", "m.log.5" }, files);
            foreach (var f in Directory.GetFiles(_dir)) Assert.InRange(new FileInfo(f).Length, 1, 1024);
            // Read from FILE.5 to FILE, the records are in the order written, ending with the newest.
            var kept = new[] { ".5", ".4", ".3", ".2", ".1", "" }.SelectMany(s => File.ReadAllLines(path + s))
                .Select(l => int.Parse(l.Substring(l.IndexOf("file-", StringComparison.Ordinal) + 5, 4))).ToArray();
            Assert.Equal(399, kept.Last());
            Assert.Equal(Enumerable.Range(kept[0], kept.Length), kept);
        }

        [Fact]
        public void Many_threads_write_whole_lines()
        {
            var path = Path.Combine(_dir, "t.log");
            using (var log = new FileLog(path, 64 * 1024 * 1024))
                Parallel.For(0, 8, t => { for (int i = 0; i < 500; i++) log.Write(Copied($"t{t}/f{i}")); });
            var lines = File.ReadAllLines(path);
            Assert.Equal(4000, lines.Length);
            Assert.All(lines, l => Assert.Matches(@"^\S+ INFO target=backup action=Copied path=t\d/f\d+ bytes=10$", l));
        }

        [Fact]
        public void Writes_after_the_log_directory_was_removed_never_throw()
        {
            var path = Path.Combine(_dir, "gone.log");
            using var log = new FileLog(path, 1024 * 1024);
            log.Write(Copied("one"));
            Directory.Delete(_dir, true); // the admin removed the log directory
            log.Write(Copied("two"));     // written to the unlinked file, or counted: never thrown
            log.Write(Copied("three"));
            Assert.False(Directory.Exists(_dir)); // nothing recreated behind the admin's back either
        }
    }
}
