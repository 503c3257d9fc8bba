using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Transport;
using RealtimeMirror.Engine.Transport.Rsync;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Rsync
{
    /// <summary>DeltaPusher end to end over the loopback sshd (tests/sshd/start-test-sshd.sh, started here when RTM_SSH_* are not set).</summary>
    public class DeltaPusherSshTests : IDisposable
    {
        private readonly string _src = Directory.CreateTempSubdirectory("rtm-dp-src-").FullName;
        private readonly string _dst = Directory.CreateTempSubdirectory("rtm-dp-dst-").FullName;
        public void Dispose() => Process.Start("rm", new[] { "-rf", _src, _dst }).WaitForExit();

        internal static readonly Lazy<Dictionary<string, string>> Env = new Lazy<Dictionary<string, string>>(LoadEnv);

        private static Dictionary<string, string> LoadEnv()
        {
            var keys = new[] { "RTM_SSH_HOST", "RTM_SSH_PORT", "RTM_SSH_USER", "RTM_SSH_KEY", "RTM_SSH_KNOWN_HOSTS" };
            if (keys.All(k => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(k))))
                return keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
            var dir = AppContext.BaseDirectory;
            while (dir != null && !File.Exists(Path.Combine(dir, "tests", "sshd", "start-test-sshd.sh"))) dir = Path.GetDirectoryName(dir);
            Assert.True(dir != null, "tests/sshd/start-test-sshd.sh not found");
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true };
            psi.ArgumentList.Add(Path.Combine(dir, "tests", "sshd", "start-test-sshd.sh"));
            using var p = Process.Start(psi);
            var text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return text.Split('\n').Where(l => l.Contains('=')).ToDictionary(l => l.Substring(0, l.IndexOf('=')), l => l.Substring(l.IndexOf('=') + 1).Trim());
        }

        private DeltaPusher Open(bool owner = true)
        {
            var e = Env.Value;
            var target = new MirrorTarget
            {
                Name = "ssh-test", Kind = TargetKind.Ssh, HostName = e["RTM_SSH_HOST"], Port = int.Parse(e["RTM_SSH_PORT"]), User = e["RTM_SSH_USER"],
                KeyFile = e["RTM_SSH_KEY"], KnownHostsFile = e["RTM_SSH_KNOWN_HOSTS"], RemotePath = _dst, Rsync = RsyncMode.Always,
            };
            return DeltaPusher.TryOpen(target, owner);
        }

        private (RsyncPushOutcome Outcome, List<SyncResult> Results, List<(string, Exception)> Errors) Push(IReadOnlyList<FileMeta> entries, bool ignoreTimes = false, bool owner = true)
        {
            using var pusher = Open(owner);
            var results = new List<SyncResult>();
            var errors = new List<(string, Exception)>();
            var outcome = pusher.Push(new TestSource(_src), entries, ignoreTimes, false, results.Add, (p, e) => errors.Add((p, e)), default);
            return (outcome, results, errors);
        }

        private FileMeta Meta(string rel) => PosixTestFs.LStat(_src + "/" + rel, rel);

        [Fact]
        public void Pushes_exactly_the_listed_entries_with_their_parents_and_reports_each_file()
        {
            string latin = "r" + (char)0xDCE9 + "sum" + (char)0xDCE9;
            Directory.CreateDirectory(Path.Combine(_src, "a", "b"));
            File.WriteAllText(Path.Combine(_src, "a", "b", "deep.txt"), "deep");
            File.WriteAllText(Path.Combine(_src, "a", "not-listed.txt"), "left out");
            PosixTestFs.WriteFile(_src + "/" + latin, Encoding.ASCII.GetBytes("cv"));
            PosixTestFs.MkFifo(Path.Combine(_src, "pipe"));
            PosixTestFs.Symlink(latin, _src + "/to-" + latin);
            var (outcome, results, errors) = Push(new[] { Meta("a/b/deep.txt"), Meta(latin), Meta("pipe"), Meta("to-" + latin) });

            Assert.Empty(errors);
            Assert.Empty(outcome.Replan);
            Assert.Equal(new[] { "a/b/deep.txt", latin }.OrderBy(x => x, StringComparer.Ordinal), results.Select(r => r.RelativePath).OrderBy(x => x, StringComparer.Ordinal));
            Assert.All(results, r => Assert.Equal(SyncAction.Copied, r.Action));
            Assert.Equal("deep", File.ReadAllText(Path.Combine(_dst, "a", "b", "deep.txt")));
            Assert.False(File.Exists(Path.Combine(_dst, "a", "not-listed.txt")));
            Assert.Equal("cv", Encoding.ASCII.GetString(PosixTestFs.ReadFile(_dst + "/" + latin)));
            Assert.Equal(latin, PosixTestFs.ReadLink(_dst + "/to-" + latin));
            Assert.Equal(EntryKind.Fifo, PosixTestFs.LStat(Path.Combine(_dst, "pipe"), "pipe").Kind);
            Assert.Equal(Meta("a").MTime, PosixTestFs.LStat(Path.Combine(_dst, "a"), "a").MTime);
        }

        [Fact]
        public void Ignore_times_carries_a_same_second_same_size_rewrite()
        {
            var f = Path.Combine(_src, "doc");
            File.WriteAllText(f, "AAAAAAAA");
            PosixTestFs.SetMTime(f, 1_700_000_000);
            Push(new[] { Meta("doc") });
            File.WriteAllText(f, "BBBBBBBB");
            PosixTestFs.SetMTime(f, 1_700_000_000);
            var (_, quiet, _) = Push(new[] { Meta("doc") });
            Assert.Empty(quiet);
            var (_, results, _) = Push(new[] { Meta("doc") }, ignoreTimes: true);
            var r = Assert.Single(results);
            Assert.Equal(SyncAction.Updated, r.Action);
            Assert.Equal("BBBBBBBB", File.ReadAllText(Path.Combine(_dst, "doc")));
            var (_, again, _) = Push(new[] { Meta("doc") }, ignoreTimes: true);
            Assert.Equal((SyncAction.MetadataOnly, 0L), (Assert.Single(again).Action, again[0].Bytes));
        }

        [Fact]
        public void Owner_3000000000_lands_exactly_over_ssh()
        {
            if (!PosixTestFs.IsRoot) return;
            File.WriteAllText(Path.Combine(_src, "owned"), "o");
            PosixTestFs.Chown(Path.Combine(_src, "owned"), 3_000_000_000, 3_000_000_000);
            var (_, _, errors) = Push(new[] { Meta("owned") });
            Assert.Empty(errors);
            var m = PosixTestFs.LStat(Path.Combine(_dst, "owned"), "owned");
            Assert.Equal((3_000_000_000L, 3_000_000_000L), (m.Uid, m.Gid));
        }

        [Fact]
        public void Stale_entries_come_back_for_replanning()
        {
            File.WriteAllText(Path.Combine(_src, "was-file"), "soon a fifo");
            var wasFile = Meta("was-file");
            File.Delete(Path.Combine(_src, "was-file"));
            PosixTestFs.MkFifo(Path.Combine(_src, "was-file"));
            Directory.CreateDirectory(Path.Combine(_src, "gone-dir"));
            File.WriteAllText(Path.Combine(_src, "gone-dir", "f"), "f");
            var orphan = Meta("gone-dir/f");
            Directory.Delete(Path.Combine(_src, "gone-dir"), true);
            File.WriteAllText(Path.Combine(_src, "vanishing"), "v");
            var vanishing = Meta("vanishing");
            File.Delete(Path.Combine(_src, "vanishing"));
            File.WriteAllText(Path.Combine(_src, "fine"), "fine");

            var (outcome, results, errors) = Push(new[] { wasFile, orphan, vanishing, Meta("fine") });
            Assert.Equal("fine", Assert.Single(results).RelativePath);
            var replan = outcome.Replan.OrderBy(r => r.RelativePath, StringComparer.Ordinal).Select(r => (r.RelativePath, r.Reason)).ToList();
            Assert.Equal(new[] { ("gone-dir/f", RsyncReplanReason.Vanished), ("vanishing", RsyncReplanReason.Vanished), ("was-file", RsyncReplanReason.KindChanged) }, replan);
            Assert.Empty(errors);
            Assert.Equal("fine", File.ReadAllText(Path.Combine(_dst, "fine")));
        }

        [Fact]
        public void The_public_push_reads_through_the_confined_directory_handle()
        {
            string name = "na" + (char)0xDCEF + "ve";
            Directory.CreateDirectory(Path.Combine(_src, "sub"));
            PosixTestFs.WriteFile(_src + "/sub/" + name, Encoding.ASCII.GetBytes("through the handle"));
            File.WriteAllText(Path.Combine(_src, "was-file"), "x");
            var stale = Meta("was-file");
            File.Delete(Path.Combine(_src, "was-file"));
            File.CreateSymbolicLink(Path.Combine(_src, "was-file"), "/etc/passwd"); // never followed
            using var pusher = Open();
            using var root = RealtimeMirror.Engine.Platform.DirectoryHandle.Open(_src);
            var results = new List<SyncResult>();
            var outcome = pusher.Push(root, new[] { Meta("sub/" + name), stale }, false, false, results.Add, (p, e) => throw e, default);
            Assert.Equal("sub/" + name, Assert.Single(results).RelativePath);
            Assert.Equal(("was-file", RsyncReplanReason.KindChanged), (Assert.Single(outcome.Replan).RelativePath, outcome.Replan[0].Reason));
            Assert.Equal("through the handle", Encoding.ASCII.GetString(PosixTestFs.ReadFile(_dst + "/sub/" + name)));
            Assert.False(File.Exists(Path.Combine(_dst, "was-file")));
        }

        [Fact]
        public void A_file_that_is_not_the_listed_version_is_sent_but_left_to_the_replan_to_report()
        {
            File.WriteAllText(Path.Combine(_src, "f"), "old");
            var listed = Meta("f");
            File.WriteAllText(Path.Combine(_src, "f"), "newer and longer");
            var (outcome, results, _) = Push(new[] { listed });
            Assert.Empty(results);
            Assert.Equal(("f", RsyncReplanReason.Changed), (Assert.Single(outcome.Replan).RelativePath, outcome.Replan[0].Reason));
            Assert.Equal("newer and longer", File.ReadAllText(Path.Combine(_dst, "f"))); // one consistent version, never a mix
        }

        [Fact]
        public void A_failing_server_is_a_clear_error_not_a_hang()
        {
            var e = Env.Value;
            var target = new MirrorTarget
            {
                Name = "ssh-test", Kind = TargetKind.Ssh, HostName = e["RTM_SSH_HOST"], Port = int.Parse(e["RTM_SSH_PORT"]), User = e["RTM_SSH_USER"],
                KeyFile = e["RTM_SSH_KEY"], KnownHostsFile = e["RTM_SSH_KNOWN_HOSTS"], RemotePath = Path.Combine(_dst, "no", "such", "dir"), Rsync = RsyncMode.Always,
            };
            File.WriteAllText(Path.Combine(_src, "f"), "x");
            using var pusher = DeltaPusher.TryOpen(target, true);
            var errors = new List<Exception>();
            try { pusher.Push(new TestSource(_src), new[] { Meta("f") }, false, false, null, (p, x) => errors.Add(x), default); }
            catch (IOException x) { errors.Add(x); }
            Assert.NotEmpty(errors);
            Assert.Contains(errors, x => x.Message.Contains("rsync on " + target.HostName));
        }

        [Fact]
        public void Over_ssh_a_current_rsync_speaks_31_and_times_keep_their_nanoseconds_and_range()
        {
            File.WriteAllText(Path.Combine(_src, "old"), "1965");
            PosixTestFs.SetMTime(Path.Combine(_src, "old"), -157_766_400, 123_456_789);
            File.WriteAllText(Path.Combine(_src, "future"), "2107");
            PosixTestFs.SetMTime(Path.Combine(_src, "future"), 4_354_819_200, 987_654_321);
            var (outcome, results, errors) = Push(new[] { Meta("old"), Meta("future") });
            Assert.Empty(errors);
            Assert.Equal(2, results.Count);
            Assert.Equal((31, "xxh128"), (outcome.Protocol, outcome.Checksum));
            var old = PosixTestFs.LStat(Path.Combine(_dst, "old"), "old");
            var future = PosixTestFs.LStat(Path.Combine(_dst, "future"), "future");
            Assert.Equal((-157_766_400L, 123_456_789), (old.MTime, old.MTimeNanos));
            Assert.Equal((4_354_819_200L, 987_654_321), (future.MTime, future.MTimeNanos));
        }

        [Fact]
        public void Listed_hard_links_land_as_one_inode()
        {
            File.WriteAllText(Path.Combine(_src, "one"), "linked");
            PosixTestFs.Link(Path.Combine(_src, "one"), Path.Combine(_src, "two"));
            var (_, _, errors) = Push(new[] { Meta("one"), Meta("two") });
            Assert.Empty(errors);
            Assert.Equal(2, PosixTestFs.LStat(Path.Combine(_dst, "one"), "one").LinkCount);
            Assert.Equal(PosixTestFs.LStat(Path.Combine(_dst, "one"), "one").Inode, PosixTestFs.LStat(Path.Combine(_dst, "two"), "two").Inode);
        }

        [Theory]
        [InlineData("-rf")]
        [InlineData("--rsync-path=evil")]
        [InlineData("backup\nrm -rf /")]
        [InlineData("tab\there")]
        public void A_remote_path_that_rsync_or_a_shell_could_misread_is_refused(string remotePath)
        {
            var target = new MirrorTarget { Name = "nas-1", Kind = TargetKind.Ssh, HostName = "h", RemotePath = remotePath };
            var e = Assert.Throws<ArgumentException>(() => target.Validate());
            Assert.Contains("nas-1", e.Message);
            Assert.Throws<ArgumentException>(() => DeltaPusher.TryOpen(target, false));
            Assert.Throws<ArgumentException>(() => RsyncServerCommand.ServerArgs(new RsyncPushOptions(), remotePath));
        }

        /// <summary>Results come from what we sent and the receiver confirmed: the server is never asked for log lines to parse.</summary>
        [Fact]
        public void The_server_is_never_asked_for_log_lines()
        {
            foreach (var o in new[]
            {
                new RsyncPushOptions(),
                new RsyncPushOptions { PreserveOwner = true, PreserveGroup = true, PreserveSpecials = true, PreserveHardLinks = true,
                    IgnoreTimes = true, Compress = true, ConfirmEachFile = true, Delete = true, BackupDir = ".rtm-versions/1", ServerProtocol = 27 },
            })
            {
                var args = RsyncServerCommand.ServerArgs(o, "/srv/r");
                var letters = args[2].Substring(1, args[2].IndexOf("e.", StringComparison.Ordinal) - 1); // before the capabilities
                Assert.DoesNotContain('v', letters);
                Assert.DoesNotContain('i', letters);
                Assert.DoesNotContain(args, a => a.StartsWith("--verbose") || a.StartsWith("--itemize") || a.StartsWith("--out-format") ||
                    a.StartsWith("--log-format") || a.StartsWith("--info") || a.StartsWith("--debug") || a.StartsWith("--stats"));
            }
        }

        [Fact]
        public void An_ordinary_remote_path_is_quoted_for_the_shell()
        {
            new MirrorTarget { Name = "ok", Kind = TargetKind.Ssh, RemotePath = "/srv/it's here" }.Validate();
            Assert.EndsWith(" . '/srv/it'\\''s here/'", RsyncServerCommand.RemoteCommandLine(new RsyncPushOptions(), "/srv/it's here"));
        }
    }
}
