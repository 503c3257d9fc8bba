using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Tests.Transport;
using RealtimeMirror.Engine.Transport;
using RealtimeMirror.Engine.Transport.Rsync;
using RealtimeMirror.Engine.Versions;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Versions
{
    /// <summary>
    /// Versions on the replica: what a plan deletes or overwrites is moved into .rtm-versions/STAMP/PATH, on a local
    /// replica, over SFTP and through the host's rsync (--backup-dir); listing, pruning and restoring them. Trees are
    /// made and judged with the shell and the machine's rsync, by bytes.
    /// </summary>
    public sealed class VersionTests : IDisposable
    {
        public enum Via { Local, Sftp, Rsync }

        private readonly string _top = Directory.CreateTempSubdirectory("rtm-versions-").FullName;
        private string Src => Path.Combine(_top, "src");
        private string Dst => Path.Combine(_top, "replica");
        private string Out => Path.Combine(_top, "outside");
        private readonly List<SyncResult> _results = new List<SyncResult>();
        private readonly List<string> _errors = new List<string>();
        private readonly List<IDisposable> _open = new List<IDisposable>();

        public VersionTests()
        {
            Directory.CreateDirectory(Src);
            Directory.CreateDirectory(Dst);
            Directory.CreateDirectory(Out);
            File.WriteAllText(Path.Combine(Out, "keep"), "outside");
        }

        public void Dispose()
        {
            foreach (var d in _open) d.Dispose();
            try { Sh("rm -rf \"$T\""); } catch (Exception) { }
        }

        private MirrorTarget TargetFor(Via via, bool keep = true)
        {
            var t = via == Via.Local
                ? new MirrorTarget { Name = "v", Kind = TargetKind.Local, Path = Dst }
                : SshTestEnvironment.Target(Dst);
            if (via != Via.Local) t.Rsync = via == Via.Rsync ? RsyncMode.Always : RsyncMode.Never;
            t.KeepVersions = keep;
            return t;
        }

        private (TargetSession Session, SourceRoot Root) Open(MirrorTarget target)
        {
            var session = TargetSession.Open(target, false, CancellationToken.None);
            var root = new SourceRoot(Src);
            _open.Add(session);
            _open.Add(root);
            return (session, root);
        }

        private SyncOptions Options(MirrorTarget target, bool dryRun = false) => new SyncOptions
        {
            Delete = true,
            DryRun = dryRun,
            Exclude = TargetSettings.ExcludeFor(target, null),
            KeepVersions = VersionPolicy.For(target),
            OnResult = _results.Add,
            OnError = (p, e) => _errors.Add(p + ": " + e.Message),
        };

        private void SyncAll((TargetSession Session, SourceRoot Root) s, MirrorTarget target, bool dryRun = false) =>
            s.Session.Sync(s.Root, new[] { SyncHint.WholeTree() }, Options(target, dryRun));

        private string Sh(string script)
        {
            var psi = new ProcessStartInfo("bash", new[] { "-euc", script }) { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.Environment["T"] = _top;
            psi.Environment["S"] = Src;
            psi.Environment["R"] = Dst;
            psi.Environment["O"] = Out;
            using var p = Process.Start(psi);
            var output = p.StandardOutput.ReadToEnd();
            var error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"shell failed ({p.ExitCode}): {script}\n{error}");
            return output.Trim();
        }

        /// <summary>The replica equals the source outside the versions area (rsync's own itemized compare), and outside is untouched.</summary>
        private void AssertMirrored()
        {
            var diff = Sh("rsync -naiHcD --numeric-ids --delete --exclude=/.rtm-versions \"$S/\" \"$R/\"");
            Assert.True(diff.Length == 0, "replica differs:\n" + diff + "\nerrors: " + string.Join("; ", _errors));
            Assert.Equal("outside", File.ReadAllText(Path.Combine(Out, "keep")));
            Assert.Equal("keep", Sh("ls -A \"$O\""));
        }

        private string OnlyStamp()
        {
            var stamps = Sh("ls \"$R/.rtm-versions\"").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(stamps);
            Assert.True(VersionArea.TryParseStamp(stamps[0], out _), stamps[0]);
            return stamps[0];
        }

        // ---- moving aside, per transport ----

        [Fact] public void Local_overwrite_and_delete_move_the_old_entries_aside() => OverwriteAndDelete(Via.Local);
        [SshFact] public void Sftp_overwrite_and_delete_move_the_old_entries_aside() => OverwriteAndDelete(Via.Sftp);
        [SshFact] public void Rsync_overwrite_and_delete_move_the_old_entries_aside() => OverwriteAndDelete(Via.Rsync);

        private void OverwriteAndDelete(Via via)
        {
            // Ten files make the executor push through rsync on an rsync target (its --backup-dir keeps the old ones).
            Sh("mkdir -p $S/dir/sub; printf one > $S/a.txt; printf bee > $S/dir/b.txt; printf sea > $S/dir/sub/c.txt; " +
               "for i in 0 1 2 3 4 5 6 7 8 9; do printf \"old $i\" > $S/f$i.txt; done; chmod 0640 $S/a.txt; touch -d '2021-05-01 10:00:00Z' $S/a.txt");
            var target = TargetFor(via);
            var s = Open(target);
            SyncAll(s, target);
            Assert.False(Directory.Exists(Path.Combine(Dst, VersionArea.DirectoryName))); // nothing replaced yet
            Sh("printf 'two two' > $S/a.txt; rm -rf $S/dir; for i in 0 1 2 3 4 5 6 7 8 9; do printf \"new content $i\" > $S/f$i.txt; done");
            _results.Clear();
            SyncAll(s, target);
            Assert.Empty(_errors);
            AssertMirrored();
            if (via == Via.Rsync) Assert.Contains(_results, r => r.Transport == DeltaPusher.TransportName);
            var stamp = OnlyStamp();
            var kept = Path.Combine(Dst, VersionArea.DirectoryName, stamp);
            Assert.Equal("one", File.ReadAllText(Path.Combine(kept, "a.txt")));
            Assert.Equal("bee", File.ReadAllText(Path.Combine(kept, "dir/b.txt")));
            Assert.Equal("sea", File.ReadAllText(Path.Combine(kept, "dir/sub/c.txt")));
            for (int i = 0; i < 10; i++) Assert.Equal("old " + i, File.ReadAllText(Path.Combine(kept, $"f{i}.txt")));
            // Moved, not copied: the kept file is the replica's old one, with its own mode and time.
            Assert.Equal("640 1619863200", Sh($"stat -c '%a %Y' \"{kept}/a.txt\""));

            var listed = VersionCatalog.List(s.Session.Replica).ToList();
            Assert.Equal(new[] { "a.txt", "dir/b.txt", "dir/sub/c.txt" }.Concat(Enumerable.Range(0, 10).Select(i => $"f{i}.txt")).OrderBy(p => p, StringComparer.Ordinal),
                listed.Select(v => v.Path).OrderBy(p => p, StringComparer.Ordinal));
            var a = listed.Single(v => v.Path == "a.txt");
            Assert.Equal(3, a.Size);
            Assert.Equal(EntryKind.File, a.Kind);
            Assert.Equal(VersionArea.PathFor(stamp, "a.txt"), a.VersionPath);
            Assert.True(Math.Abs((DateTime.UtcNow - a.TimeUtc).TotalMinutes) < 5);

            // A third round keeps a second version of a.txt, under a later stamp; the first stays.
            Sh("printf 'three three three' > $S/a.txt");
            SyncAll(s, target);
            var ofA = VersionCatalog.List(s.Session.Replica, include: p => p == "a.txt").ToList();
            Assert.Equal(2, ofA.Count);
            Assert.True(ofA[0].Time > ofA[1].Time); // newest first
            Assert.Equal("two two", File.ReadAllText(Path.Combine(Dst, ofA[0].VersionPath)));
            AssertMirrored();
        }

        [Fact] public void Local_names_with_odd_bytes_are_kept_and_restored_byte_for_byte() => OddNames(Via.Local);
        [SshFact] public void Sftp_names_with_odd_bytes_are_kept_and_restored_byte_for_byte() => OddNames(Via.Sftp);
        [SshFact] public void Rsync_names_with_odd_bytes_are_kept_and_restored_byte_for_byte() => OddNames(Via.Rsync);

        private void OddNames(Via via)
        {
            // A Latin-1 directory and file name (not UTF-8), a name with a newline, and a link whose target is Latin-1.
            Sh("mkdir -p \"$S\"/$'r\\xe9p'; printf latin > \"$S\"/$'r\\xe9p/caf\\xe9.txt'; printf nl > \"$S\"/$'new\\nline'; ln -s $'caf\\xe9.txt' \"$S\"/$'r\\xe9p/link'");
            var target = TargetFor(via);
            var s = Open(target);
            SyncAll(s, target);
            Sh("printf 'latin two' > \"$S\"/$'r\\xe9p/caf\\xe9.txt'; rm \"$S\"/$'new\\nline' \"$S\"/$'r\\xe9p/link'");
            SyncAll(s, target);
            Assert.Empty(_errors);
            AssertMirrored();
            var stamp = OnlyStamp();
            Assert.Equal("latin", Sh($"cat \"$R/.rtm-versions/{stamp}\"/$'r\\xe9p/caf\\xe9.txt'"));
            var versions = VersionCatalog.List(s.Session.Replica).ToList();
            Assert.Equal(3, versions.Count);
            var restoreTo = Path.Combine(_top, "restored");
            foreach (var v in versions) Assert.Equal(SyncAction.Restored, VersionRestorer.Restore(s.Session.Replica, v, restoreTo, CancellationToken.None).Action);
            Assert.Equal("latin", Sh("cat \"$T/restored\"/$'r\\xe9p/caf\\xe9.txt'"));
            Assert.Equal("nl", Sh("cat \"$T/restored\"/$'new\\nline'"));
            Assert.Equal("b'caf\\xe9.txt'", Sh("python3 -c 'import os,sys; print(os.readlink(os.fsencode(sys.argv[1])))' \"$T/restored\"/$'r\\xe9p/link'"));
        }

        [Fact] public void Local_upload_moves_the_old_file_aside_only_once_the_new_one_is_complete() => AsideAtTheRename(Via.Local);
        [SshFact] public void Sftp_upload_moves_the_old_file_aside_only_once_the_new_one_is_complete() => AsideAtTheRename(Via.Sftp);

        private void AsideAtTheRename(Via via)
        {
            Sh("printf old > $S/a.txt");
            var target = TargetFor(via);
            var s = Open(target);
            SyncAll(s, target);
            Sh("head -c 1000000 /dev/zero | tr '\\0' n > $S/a.txt");
            var seen = new List<string>();
            var aside = (IReplaceAside)s.Session.Replica;
            var keeper = new VersionKeeper(s.Session.Replica);
            aside.BeforeReplace = rel =>
            {
                // Called with the new content complete under its temp name, the old one still in place.
                seen.Add(rel + "=" + File.ReadAllText(Path.Combine(Dst, rel)) + ";" + Sh("find $R -name '.a.txt.rtm-*' -size 1000000c | wc -l"));
                keeper.MoveAside(rel);
            };
            using (var source = RealtimeMirror.Engine.Platform.DirectoryHandle.Open(Src)) s.Session.Replica.UploadFile(source, "a.txt", CancellationToken.None);
            aside.BeforeReplace = null;
            Assert.Equal(new[] { "a.txt=old;1" }, seen);
            Assert.Equal("old", File.ReadAllText(Path.Combine(Dst, VersionArea.PathFor(keeper.Stamp, "a.txt"))));
            Assert.Equal(1000000, new FileInfo(Path.Combine(Dst, "a.txt")).Length);
        }

        // ---- the reserved area ----

        [Fact] public void Local_reserved_area_is_never_mirrored_compared_nor_deleted() => Reserved(Via.Local);
        [SshFact] public void Sftp_reserved_area_is_never_mirrored_compared_nor_deleted() => Reserved(Via.Sftp);

        private void Reserved(Via via)
        {
            // A target that keeps no versions (versions kept earlier must survive turning them off), a source that has
            // its own .rtm-versions at the root (not ours to mirror), and a deeper one that is an ordinary name.
            Sh("mkdir -p $R/.rtm-versions/20200101T000000.000Z $S/.rtm-versions $S/deep/.rtm-versions; printf old > $R/.rtm-versions/20200101T000000.000Z/x; " +
               "printf mine > $S/.rtm-versions/y; printf deep > $S/deep/.rtm-versions/z; printf a > $S/a");
            var target = TargetFor(via, keep: false);
            var s = Open(target);
            SyncAll(s, target);
            Assert.Empty(_errors);
            Assert.Equal("old", File.ReadAllText(Path.Combine(Dst, ".rtm-versions/20200101T000000.000Z/x")));
            Assert.False(File.Exists(Path.Combine(Dst, ".rtm-versions/y")));
            Assert.Equal("deep", File.ReadAllText(Path.Combine(Dst, "deep/.rtm-versions/z")));
            Assert.DoesNotContain(_results, r => VersionArea.IsReserved(r.RelativePath));
            // Nor does a planner built without the target's excludes touch it.
            var planner = new Planner(s.Root.Handle, s.Session.Replica, GlobFilter.None);
            Assert.DoesNotContain(planner.Plan(new[] { SyncHint.WholeTree() }).Actions, a => VersionArea.IsReserved(a.RelativePath));
        }

        [Fact]
        public void WhatIf_keeps_nothing_and_changes_nothing()
        {
            Sh("printf one > $S/a; printf two > $S/b");
            var target = TargetFor(Via.Local);
            var s = Open(target);
            SyncAll(s, target);
            Sh("printf changed > $S/a; rm $S/b");
            SyncAll(s, target, dryRun: true);
            Assert.False(Directory.Exists(Path.Combine(Dst, VersionArea.DirectoryName)));
            Assert.Equal("one", File.ReadAllText(Path.Combine(Dst, "a")));
            Assert.True(File.Exists(Path.Combine(Dst, "b")));
        }

        [Fact]
        public void Without_versions_a_plan_deletes_and_overwrites_in_place()
        {
            Sh("printf one > $S/a; printf two > $S/b");
            var target = TargetFor(Via.Local, keep: false);
            var s = Open(target);
            SyncAll(s, target);
            Sh("printf changed > $S/a; rm $S/b");
            SyncAll(s, target);
            AssertMirrored();
            Assert.False(Directory.Exists(Path.Combine(Dst, VersionArea.DirectoryName)));
        }

        // ---- pruning, with a fake clock ----

        private LocalReplica Replica()
        {
            var r = new LocalReplica("v", Dst);
            r.Open(CancellationToken.None);
            _open.Add(r);
            return r;
        }

        /// <summary>Keeps the current replica file <paramref name="rel"/> under a stamp for <paramref name="when"/>, as a plan then would.</summary>
        private void KeepAt(LocalReplica r, string rel, string content, DateTime when)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(Dst, rel)));
            File.WriteAllText(Path.Combine(Dst, rel), content);
            Assert.True(new VersionKeeper(r, VersionArea.Stamp(when)).MoveAside(rel));
        }

        [Fact]
        public void Pruning_by_age_removes_whole_stamps_past_the_retention()
        {
            var r = Replica();
            var now = new DateTime(2026, 6, 30, 12, 0, 0, DateTimeKind.Utc);
            KeepAt(r, "a.txt", "40 days", now.AddDays(-40));
            KeepAt(r, "d/b.txt", "31 days", now.AddDays(-31));
            KeepAt(r, "a.txt", "29 days", now.AddDays(-29));
            KeepAt(r, "a.txt", "today", now.AddHours(-1));
            Sh("mkdir -p $R/.rtm-versions/not-a-stamp; printf x > $R/.rtm-versions/not-a-stamp/f; printf live > $R/live");
            var pruned = VersionPruner.Prune(r, new VersionPolicy(TimeSpan.FromDays(30), null), now);
            Assert.Equal(2, pruned.StampsRemoved);
            Assert.Equal(new[] { "29 days", "today" }, VersionCatalog.List(r).Select(v => File.ReadAllText(Path.Combine(Dst, v.VersionPath))).Reverse());
            Assert.Equal("x", File.ReadAllText(Path.Combine(Dst, ".rtm-versions/not-a-stamp/f"))); // not ours: left alone
            Assert.Equal("live", File.ReadAllText(Path.Combine(Dst, "live")));
            // A day later the 29-day stamp is past it too.
            Assert.Equal(1, VersionPruner.Prune(r, new VersionPolicy(TimeSpan.FromDays(30), null), now.AddDays(1.5)).StampsRemoved);
        }

        [Fact]
        public void Pruning_by_count_keeps_the_newest_per_path_and_removes_emptied_directories()
        {
            var r = Replica();
            var now = DateTime.UtcNow;
            for (int i = 0; i < 4; i++) KeepAt(r, "d/e/a.txt", "a" + i, now.AddMinutes(-10 + i));
            KeepAt(r, "b.txt", "b", now.AddMinutes(-10));
            var pruned = VersionPruner.Prune(r, new VersionPolicy(null, 2), now);
            Assert.Equal(2, pruned.VersionsRemoved);
            var left = VersionCatalog.List(r).Select(v => v.Path + "=" + File.ReadAllText(Path.Combine(Dst, v.VersionPath))).ToList();
            Assert.Equal(new[] { "d/e/a.txt=a3", "d/e/a.txt=a2", "b.txt=b" }, left);
            // The stamps that held only a0 and a1 are gone whole; the one with b.txt lost only its emptied d/.
            var oldest = VersionArea.Stamp(now.AddMinutes(-10));
            Assert.Equal("b.txt", Sh($"ls -A \"$R/.rtm-versions/{oldest}\""));
            Assert.Equal(3, Sh("ls \"$R/.rtm-versions\" | wc -l").Length == 0 ? 0 : int.Parse(Sh("ls \"$R/.rtm-versions\" | wc -l")));
        }

        [Fact]
        public void Retention_parses_short_forms_and_timespans_and_a_count_alone_means_no_age_limit()
        {
            Assert.Equal(TimeSpan.FromDays(30), VersionPolicy.ParseRetention("30d"));
            Assert.Equal(TimeSpan.FromHours(12), VersionPolicy.ParseRetention(" 12h "));
            Assert.Equal(TimeSpan.FromMinutes(90), VersionPolicy.ParseRetention("90m"));
            Assert.Equal(TimeSpan.FromSeconds(2), VersionPolicy.ParseRetention("2s"));
            Assert.Equal(TimeSpan.FromDays(14), VersionPolicy.ParseRetention("2w"));
            Assert.Equal(new TimeSpan(1, 12, 0, 0), VersionPolicy.ParseRetention("1.12:00:00"));
            foreach (var bad in new[] { "", "soon", "-1d", "0s", "5y" }) Assert.Throws<ArgumentException>(() => VersionPolicy.ParseRetention(bad));
            Assert.Equal(VersionPolicy.DefaultRetention, VersionPolicy.For(new MirrorTarget { KeepVersions = true }).Retention);
            Assert.Null(VersionPolicy.For(new MirrorTarget { KeepVersions = true, VersionCount = 3 }).Retention);
            Assert.Null(VersionPolicy.For(new MirrorTarget { KeepVersions = false, VersionCount = 3 }));
        }

        [Fact]
        public void Stamps_sort_as_text_round_trip_and_never_repeat()
        {
            var t = new DateTime(2026, 12, 2, 11, 15, 0, 123, DateTimeKind.Utc);
            Assert.Equal("20261202T111500.123Z", VersionArea.Stamp(t));
            Assert.True(VersionArea.TryParseStamp("20261202T111500.123Z", out var back));
            Assert.Equal(t, back);
            Assert.Equal(DateTimeKind.Utc, back.Kind);
            var many = Enumerable.Range(0, 50).Select(_ => VersionArea.NewStamp(t)).ToList();
            Assert.Equal(many.Count, many.Distinct().Count());
            Assert.Equal(many, many.OrderBy(s => s, StringComparer.Ordinal));
        }

        // ---- restoring ----

        [Fact]
        public void Restore_preserves_content_mode_and_time_and_never_writes_through_a_link()
        {
            Sh("printf 'old secret' > $S/a.txt; chmod 0604 $S/a.txt; touch -d '2020-02-02 02:02:02Z' $S/a.txt; mkdir $S/docs; printf d > $S/docs/x");
            var target = TargetFor(Via.Local);
            var s = Open(target);
            SyncAll(s, target);
            Sh("printf new > $S/a.txt; rm $S/docs/x");
            SyncAll(s, target);
            var a = VersionCatalog.List(s.Session.Replica, include: p => p == "a.txt").Single();
            var result = VersionRestorer.Restore(s.Session.Replica, a, Src, CancellationToken.None);
            Assert.Equal(Path.Combine(Src, "a.txt"), result.Path);
            Assert.Equal("old secret", File.ReadAllText(Path.Combine(Src, "a.txt")));
            Assert.Equal("604 1580608922", Sh("stat -c '%a %Y' $S/a.txt"));
            Assert.True(File.Exists(Path.Combine(Dst, a.VersionPath))); // the version stays kept

            // A destination whose docs/ is a link to outside: the restore is refused, outside untouched.
            var x = VersionCatalog.List(s.Session.Replica, include: p => p == "docs/x").Single();
            Sh("mkdir -p $T/dest; ln -s \"$O\" $T/dest/docs");
            Assert.ThrowsAny<Exception>(() => VersionRestorer.Restore(s.Session.Replica, x, Path.Combine(_top, "dest"), CancellationToken.None));
            Assert.Equal("keep", Sh("ls -A \"$O\""));
        }

        [SshFact]
        public void Sftp_restore_reads_the_version_over_sftp_and_a_pruned_one_is_reported()
        {
            Sh("head -c 300000 /dev/urandom > $S/big.bin; chmod 0600 $S/big.bin");
            var target = TargetFor(Via.Sftp);
            var s = Open(target);
            SyncAll(s, target);
            Sh("cp $S/big.bin $T/original.bin; printf small > $S/big.bin");
            SyncAll(s, target);
            var v = VersionCatalog.List(s.Session.Replica).Single();
            Assert.Equal(300000, v.Size);
            VersionRestorer.Restore(s.Session.Replica, v, Path.Combine(_top, "back"), CancellationToken.None);
            Sh("cmp $T/original.bin $T/back/big.bin");
            Assert.Equal("600", Sh("stat -c '%a' $T/back/big.bin"));
            Sh("rm -rf $R/.rtm-versions");
            Assert.Throws<FileNotFoundException>(() => VersionRestorer.Restore(s.Session.Replica, v, Path.Combine(_top, "back2"), CancellationToken.None));
        }

        // ---- rsync's receiver ----

        [Fact]
        public void Rsync_server_command_carries_the_backup_dir_and_refuses_anything_else()
        {
            var args = RsyncServerCommand.ServerArgs(new RsyncPushOptions { BackupDir = ".rtm-versions/20261202T111500.123Z" }, "/srv/data");
            Assert.Contains("--backup", args);
            Assert.Contains("--backup-dir=.rtm-versions/20261202T111500.123Z", args);
            Assert.DoesNotContain(RsyncServerCommand.ServerArgs(new RsyncPushOptions(), "/srv/data"), a => a.StartsWith("--backup", StringComparison.Ordinal));
            foreach (var bad in new[] { "../x", "/etc", "-x", "a b", "a;rm", "" })
                Assert.Throws<ArgumentException>(() => RsyncServerCommand.ServerArgs(new RsyncPushOptions { BackupDir = bad }, "/srv/data"));
        }
    }
}
