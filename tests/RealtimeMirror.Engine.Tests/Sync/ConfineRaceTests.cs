using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Results;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Sync
{
    /// <summary>
    /// A user of the backup host attacks a local replica while the mirror writes to it: hard links to files outside the
    /// replica, and directories swapped for symlinks in a tight loop. Nothing outside the replica may change, and the
    /// replica must still end equal to the source (judged by rsync, as in <see cref="MirrorFixture"/>).
    /// </summary>
    public class ConfineRaceTests
    {
        private static string Stat(string path) => new MirrorFixtureShell().Run($"stat -c '%a %u:%g %h %s' '{path}'").Trim();

        [Theory]
        [InlineData("chmod")]   // mode differs only: SetMetadata
        [InlineData("touch")]   // mtime differs: content compared, then metadata
        public void A_replica_file_hard_linked_to_an_outside_file_is_replaced_never_changed(string change)
        {
            using var f = new MirrorFixture();
            f.Sh("printf 'mirrored!' > $S/f; chmod 644 $S/f; touch -d @1600000000 $S/f");
            f.SyncAll();
            // The victim has the same size and time, so only its mode and owner would differ from the source's.
            f.Sh("printf 'secret!!!' > $O/shadow; chmod 600 $O/shadow; touch -d @1600000000 $O/shadow; rm $R/f; ln $O/shadow $R/f");
            if (change == "chmod") f.Sh("chmod 664 $S/f");
            else f.Sh("touch -d @1700000000 $S/f");
            var before = Stat(Path.Combine(f.Outside, "shadow"));
            f.Results.Clear();
            f.SyncAll();

            Assert.Empty(f.Errors);
            Assert.Equal(before.Replace(" 2 ", " 1 "), Stat(Path.Combine(f.Outside, "shadow"))); // mode, owner untouched; one name left
            Assert.Equal("secret!!!", File.ReadAllText(Path.Combine(f.Outside, "shadow")));
            f.AssertEqual();
            Assert.Equal(SyncAction.Updated, Assert.Single(f.Results, r => r.RelativePath == "f").Action);
        }

        [Fact]
        public void Metadata_is_never_set_through_a_name_with_other_links()
        {
            using var f = new MirrorFixture();
            f.Sh("echo x > $O/victim; chmod 600 $O/victim; ln $O/victim $R/v");
            using var replica = DirectoryHandle.Open(f.Replica);
            var e = Assert.Throws<SharedInodeException>(() =>
                replica.SetMetadata("v", new FileMeta("v", EntryKind.File, 2, 1_000_000_000, 0x1FF, 4321, 4321, null), true));
            Assert.Equal(2, e.LinkCount);
            Assert.StartsWith("600 0:0 2", Stat(Path.Combine(f.Outside, "victim")));
        }

        [Fact]
        public void Hard_links_the_mirror_made_itself_are_kept_in_step_after_a_chmod()
        {
            using var f = new MirrorFixture();
            f.Sh("echo shared > $S/a; ln $S/a $S/b");
            f.SyncAll();
            f.Sh("chmod 640 $S/a");
            f.SyncAll();
            Assert.Empty(f.Errors);
            f.AssertEqual();
            Assert.Equal(new MirrorFixtureShell().Run($"stat -c %i '{f.Replica}/a'"), new MirrorFixtureShell().Run($"stat -c %i '{f.Replica}/b'"));
        }

        [Fact]
        public void A_replica_directory_swapped_for_a_symlink_in_a_loop_never_lets_a_write_out()
        {
            using var f = new MirrorFixture();
            f.Sh("mkdir $S/d; for i in $(seq 40); do echo $i > $S/d/f$i; done; mkdir $O/victim; chmod 700 $O/victim");
            f.SyncAll();
            using var stop = new CancellationTokenSource();
            // The attacker: d is a directory one moment and a link to the victim the next, as fast as it can.
            var attacker = Task.Run(() => new MirrorFixtureShell().Run(
                $"cd '{f.Replica}'; while [ ! -e '{f.Outside}/stop' ]; do mv d d.real 2>/dev/null; ln -sfn '{f.Outside}/victim' d; rm -f d; mv d.real d 2>/dev/null; done; true"));
            try
            {
                for (int round = 0; round < 15; round++)
                {
                    f.Sh($"for i in $(seq 40); do echo round{round} > $S/d/f$i; done; chmod 75{round % 8} $S/d");
                    f.SyncAll();
                }
            }
            finally
            {
                File.WriteAllText(Path.Combine(f.Outside, "stop"), "");
                attacker.Wait(TimeSpan.FromSeconds(30));
            }
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(f.Outside, "victim")));
            Assert.StartsWith("700 ", Stat(Path.Combine(f.Outside, "victim")));
            f.Sh("[ -d $R/d.real ] && rm -rf $R/d && mv $R/d.real $R/d || true; [ -L $R/d ] && rm $R/d || true");
            f.Errors.Clear();
            f.SyncAll();
            Assert.Empty(f.Errors);
            f.AssertEqual();
        }
    }

    /// <summary>bash for assertions (the fixture's Sh fails the test on a non-zero exit; this returns the output).</summary>
    internal sealed class MirrorFixtureShell
    {
        public string Run(string script)
        {
            var psi = new System.Diagnostics.ProcessStartInfo("bash", new[] { "-c", script }) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = System.Diagnostics.Process.Start(psi);
            var output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return output;
        }
    }
}
