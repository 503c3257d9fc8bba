using System.Diagnostics;

namespace RealtimeMirror.Fuzz;

/// <summary>
/// The driver: temp source tree, private targets, the module as a child pwsh service, seeded churn, then a wait for
/// convergence with an exact comparison per target. Exit 0 when every replica converged (and nothing outside the
/// replica roots changed), 1 when not, 2 on a setup error.
/// </summary>
public static class Program
{
    sealed class Options
    {
        public int Seed = 1, Ops = 300, SettleTimeout = 30, MaxDiffs = 20, SshdPort = 2232, InitialFiles = 40, InitialTimeout = 60, MaxQueued;
        public string[] Targets = { "local", "rsync", "sftp" };
        public bool Kill, RestartSshd, Keep, RsyncCheck = true, ChurnOnly;
        public string Only, Repo, Pwsh, WorkBase = "/tmp";
        public DirTimes DirTimes = DirTimes.Skip;
        public Dictionary<string, bool> Nanoseconds = new(); // --precision local=s: override what a transport is held to
    }

    const string Usage = """
        RealtimeMirror.Fuzz --seed N [--ops M] [--targets local,rsync,sftp] [--settle-timeout S] [--kill] [--restart-sshd]
                            [--only CLASS] [--dir-times skip|s] [--precision local=ns|s,...] [--max-diffs N] [--max-queued N] [--keep] [--workdir DIR] [--repo DIR]
                            [--pwsh PATH] [--sshd-port P] [--initial-files N] [--no-rsync-check] [--churn-only] [--list-classes]
        """;

    public static readonly string[] Excludes = { "*.swp" };

    public static int Main(string[] args)
    {
        Options o;
        try { o = Parse(args); }
        catch (Exception e) { Console.Error.WriteLine(e.Message); Console.Error.WriteLine(Usage); return 2; }
        if (o == null) return 0;
        try { return Run(o); }
        catch (Exception e) { Console.Error.WriteLine($"fuzz setup error (seed {o.Seed}): {e}"); return 2; }
    }

    static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--seed": o.Seed = int.Parse(Next()); break;
                case "--ops": o.Ops = int.Parse(Next()); break;
                case "--targets": o.Targets = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                case "--settle-timeout": o.SettleTimeout = int.Parse(Next()); break;
                case "--initial-timeout": o.InitialTimeout = int.Parse(Next()); break;
                case "--kill": o.Kill = true; break;
                case "--restart-sshd": o.RestartSshd = true; break;
                case "--only": o.Only = Next(); if (!Generator.Classes.Contains(o.Only)) throw new ArgumentException($"unknown class {o.Only}; --list-classes"); break;
                case "--dir-times": o.DirTimes = Next() is "s" or "seconds" ? DirTimes.Seconds : DirTimes.Skip; break;
                case "--precision":
                    foreach (var kv in Next().Split(',').Select(x => x.Split('=')))
                        o.Nanoseconds[kv[0]] = kv[1] is "ns" ? true : kv[1] is "s" ? false : throw new ArgumentException("--precision KIND=ns|s[,...]");
                    break;
                case "--max-diffs": o.MaxDiffs = int.Parse(Next()); break;
                case "--keep": o.Keep = true; break;
                // A tiny event bound makes the watch and every target fold their backlogs into Rescans all the time:
                // what a burst past the bound does on a big server, at fuzzing scale.
                case "--max-queued": o.MaxQueued = int.Parse(Next()); break;
                case "--workdir": o.WorkBase = Next(); break;
                case "--repo": o.Repo = Next(); break;
                case "--pwsh": o.Pwsh = Next(); break;
                case "--sshd-port": o.SshdPort = int.Parse(Next()); break;
                case "--initial-files": o.InitialFiles = int.Parse(Next()); break;
                case "--no-rsync-check": o.RsyncCheck = false; break;
                case "--churn-only": o.ChurnOnly = true; break; // the generator alone: no service, no comparison (replay, tree shape)
                case "--list-classes": Console.WriteLine(string.Join("\n", Generator.Classes)); return null;
                case "-h" or "--help": Console.WriteLine(Usage); return null;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        foreach (var t in o.Targets) TargetProfile.For(t, t);
        return o;
    }

    static string FindRepo(string given)
    {
        if (given != null) return Path.GetFullPath(given);
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "RealtimeMirror.psd1"))) return d.FullName;
        throw new DirectoryNotFoundException("repo root (with RealtimeMirror.psd1) not found above the fuzzer; give --repo");
    }

    static void Say(string s) => Console.WriteLine($"[fuzz {DateTime.UtcNow:HH:mm:ss.fff}] {s}");

    static int Run(Options o)
    {
        var total = Stopwatch.StartNew();
        Native.umask(Mode.Oc(22));
        var repo = FindRepo(o.Repo);
        var work = Path.Combine(o.WorkBase, $"rtm-fuzz-s{o.Seed}-{Environment.ProcessId}");
        var src = Path.Combine(work, "src");
        var scratch = Path.Combine(work, "scratch");
        var replicas = Path.Combine(work, "replicas");
        Directory.CreateDirectory(src); Directory.CreateDirectory(scratch); Directory.CreateDirectory(replicas);
        var opLogPath = Path.Combine(work, "ops.log");
        var serviceLogPath = Path.Combine(work, "service.log");
        using var opLog = new StreamWriter(opLogPath) { AutoFlush = true };
        opLog.WriteLine($"# RealtimeMirror.Fuzz seed={o.Seed} ops={o.Ops} targets={string.Join(",", o.Targets)} only={o.Only ?? "(all)"} kill={o.Kill} restart-sshd={o.RestartSshd}");

        var profiles = o.Targets.Select(t => TargetProfile.For(t, "fz-" + t))
            .Select(p => o.Nanoseconds.TryGetValue(p.Kind, out var ns) ? p with { Nanoseconds = ns } : p).ToList();
        foreach (var p in profiles)
        {
            Directory.CreateDirectory(Path.Combine(replicas, p.Kind));
            // A sentinel beside each replica: nothing the service does may touch it.
            var sentinel = Path.Combine(replicas, p.Kind + ".sentinel");
            Directory.CreateDirectory(sentinel);
            File.WriteAllText(Path.Combine(sentinel, "keep.txt"), $"sentinel for {p.Kind}\n");
            Native.Chmod(Bytes.Raw(Path.Combine(sentinel, "keep.txt")), Mode.Oc(600));
            Native.Chmod(Bytes.Raw(sentinel), Mode.Oc(700));
        }
        var outsideExcludes = o.Targets.ToArray(); // the replicas/ folder minus the replica roots = sentinels and anything stray
        var outsideBefore = Snapshot.Take(replicas, outsideExcludes);

        Generator.MakeInitialTree(o.Seed, src, o.InitialFiles);
        var gen = new Generator(o.Seed, src, scratch);
        foreach (var p in profiles)
        {
            // Outside replicas/ altogether, so the sentinel check does not see them; judged by gen.CheckTraps.
            var trapDir = Path.Combine(work, "traps", p.Kind);
            Directory.CreateDirectory(trapDir);
            gen.Traps.Add((p.Kind, Path.Combine(replicas, p.Kind), trapDir));
        }

        if (o.ChurnOnly)
        {
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < o.Ops; i++)
            {
                var cls = gen.PickClass(o.Only);
                string line;
                try { line = gen.Step(cls); }
                catch (NativeException e) { line = $"{cls} FAILED ({e.Message}); model resynced from disk"; gen.ResyncModel(); }
                opLog.WriteLine($"#{i:D5} {line}");
            }
            if (!o.Keep) { RemoveAll(src); RemoveAll(scratch); RemoveAll(replicas); } // the op log stays
            Say($"churn only: {o.Ops} ops in {sw.Elapsed.TotalSeconds:F1} s; source has {gen.Model.Count} entries ({gen.Model.Files.Count} files, {gen.Model.Dirs.Count} dirs, {gen.Model.Links.Count} symlinks, {gen.Model.Fifos.Count} fifos); op log {opLogPath}");
            return 0;
        }

        Sshd sshd = null;
        if (profiles.Any(p => p.Kind != "local"))
        {
            sshd = new Sshd(repo, o.SshdPort);
            sshd.Start();
        }
        var env = new Dictionary<string, string> { ["FUZZ_SRC"] = src, ["FUZZ_REPLICAS"] = replicas };
        if (sshd != null) foreach (var (k, v) in sshd.Env) env[k] = v;
        var setup = string.Join("; ", profiles.Select(p => p.Kind switch
        {
            "local" => $"Register-MirrorTarget -Name {p.Name} -Path \"$env:FUZZ_REPLICAS/local\" -Force -ErrorAction Stop | Out-Null",
            _ => $"Register-MirrorTarget -Name {p.Name} -HostName $env:RTM_SSH_HOST -Port ([int]$env:RTM_SSH_PORT) -User $env:RTM_SSH_USER " +
                 $"-KeyFile $env:RTM_SSH_KEY -KnownHostsFile $env:RTM_SSH_KNOWN_HOSTS -RemotePath \"$env:FUZZ_REPLICAS/{p.Kind}\" " +
                 $"-Rsync {(p.Kind == "rsync" ? "Always" : "Never")} -NoConnect -Force -ErrorAction Stop | Out-Null",
        }));
        setup += $"; Start-MirrorWatch $env:FUZZ_SRC -Target {string.Join(",", profiles.Select(p => p.Name))} -Exclude '*.swp' -HaltThreshold 100% -InitialSync -Wait -Backend ($env:FUZZ_BACKEND ?? 'Auto')" +
            (o.MaxQueued > 0 ? $" -MaxQueuedEvents {o.MaxQueued}" : "") +
            " | ForEach-Object { '{0:HH:mm:ss.fff} {1} {2} {3} B {4}{5}' -f [datetime]::UtcNow, $_.Target, $_.Action, $_.Bytes, $(if ($_.OldRelativePath) { \"$($_.OldRelativePath) -> \" }), $_.RelativePath }";
        using var service = new Service(Service.FindPwsh(o.Pwsh), Path.Combine(repo, "RealtimeMirror.psd1"), Path.Combine(work, "targets.json"), serviceLogPath, setup, env);

        Say($"seed {o.Seed}: {o.Ops} ops{(o.Only != null ? $" of class {o.Only}" : "")}, targets {string.Join(",", o.Targets)}; work dir {work}");
        service.Start();
        var initial = Stopwatch.StartNew();
        var (initOk, _) = WaitConverged(src, replicas, profiles, o, TimeSpan.FromSeconds(Math.Max(o.InitialTimeout, o.SettleTimeout)), service, structureOnly: true);
        initial.Stop();
        Say(initOk ? $"initial sync visible on every replica after {initial.Elapsed.TotalSeconds:F1} s"
                   : $"initial sync NOT complete after {initial.Elapsed.TotalSeconds:F1} s; churning anyway");
        opLog.WriteLine($"# initial sync {(initOk ? "complete" : "INCOMPLETE")} after {initial.Elapsed.TotalSeconds:F1} s");

        // Churn. Pauses come from their own generator, so the op sequence of a seed does not depend on them.
        var pauses = new Random(o.Seed * 7919 + 17);
        int killAt = o.Kill ? Math.Max(1, o.Ops / 3) : -1, restartAt = o.Kill ? killAt + Math.Max(1, o.Ops / 10) : -1;
        int sshdAt = o.RestartSshd ? Math.Max(1, o.Ops * 3 / 4) : -1; // after the restarted service has reconnected
        var burst = 0;
        var churn = Stopwatch.StartNew();
        for (var i = 0; i < o.Ops; i++)
        {
            if (i == killAt) { service.Kill(); opLog.WriteLine($"# --- service SIGKILLed before op {i} ---"); Say($"service SIGKILLed before op {i}"); }
            if (i == restartAt) { service.Start(); opLog.WriteLine($"# --- service restarted before op {i} ---"); Say($"service restarted before op {i}"); }
            if (i == sshdAt && sshd != null) { sshd.Restart(m => { opLog.WriteLine("# --- " + m + " ---"); Say(m); }); }
            var cls = gen.PickClass(o.Only);
            string line;
            try { line = gen.Step(cls); }
            catch (NativeException e)
            {
                line = $"{cls} FAILED ({e.Message}); model resynced from disk";
                gen.ResyncModel();
            }
            opLog.WriteLine($"#{i:D5} {line}");
            if (burst > 0) burst--;
            else if (pauses.Next(30) == 0) burst = pauses.Next(10, 51);
            else Thread.Sleep(pauses.Next(0, 21));
        }
        if (restartAt >= o.Ops) service.Start();
        churn.Stop();
        Say($"churn done: {o.Ops} ops in {churn.Elapsed.TotalSeconds:F1} s; source has {gen.Model.Count} entries; settling (up to {o.SettleTimeout} s)");

        var settle = Stopwatch.StartNew();
        var (ok, diffs) = WaitConverged(src, replicas, profiles, o, TimeSpan.FromSeconds(o.SettleTimeout), service);
        settle.Stop();

        var outsideDiffs = Comparer.CompareExact(outsideBefore, Snapshot.Take(replicas, outsideExcludes));
        outsideDiffs.AddRange(gen.CheckTraps());
        var exitNote = service.ExitNote();
        service.Dispose();

        Console.WriteLine();
        // Everything (all differences, not only the first --max-diffs) also goes to report.txt in the work dir.
        using var report = new StreamWriter(Path.Combine(work, "report.txt"));
        foreach (var p in profiles)
        {
            report.WriteLine($"== {p.Kind} ({p.Name}): {diffs[p.Kind].Count} difference(s); nanoseconds={p.Nanoseconds} symlink-times={p.SymlinkTimes} symlink-owner={p.SymlinkOwner} dir-times={o.DirTimes}");
            foreach (var line in diffs[p.Kind]) report.WriteLine(line);
        }
        report.WriteLine($"== outside the replica roots: {outsideDiffs.Count} change(s)");
        foreach (var line in outsideDiffs) report.WriteLine(line);
        var summary = new List<string>();
        foreach (var p in profiles)
        {
            var d = diffs[p.Kind];
            var rsyncLines = o.RsyncCheck ? RsyncItemize(src, Path.Combine(replicas, p.Kind)) : -1;
            var second = rsyncLines >= 0 ? $"; rsync -aniHc --numeric-ids --delete: {rsyncLines} line(s)" : "";
            if (d.Count == 0) Console.WriteLine($"  {p.Kind,-6} converged{second}");
            else
            {
                Console.WriteLine($"  {p.Kind,-6} DIVERGED: {d.Count} difference(s){second}");
                foreach (var line in d.Take(o.MaxDiffs)) Console.WriteLine($"           {line}");
                if (d.Count > o.MaxDiffs) Console.WriteLine($"           ... and {d.Count - o.MaxDiffs} more");
            }
            summary.Add($"{p.Kind}={(d.Count == 0 ? "ok" : $"FAIL({d.Count}:{Comparer.Categories(d)})")}");
        }
        if (outsideDiffs.Count == 0) Console.WriteLine("  outside the replica roots: unchanged (sentinels intact)");
        else
        {
            Console.WriteLine($"  OUTSIDE THE REPLICA ROOTS: {outsideDiffs.Count} change(s)");
            foreach (var line in outsideDiffs.Take(o.MaxDiffs)) Console.WriteLine($"           {line}");
        }
        if (exitNote != null) Console.WriteLine($"  note: {exitNote}");
        var allOk = ok && outsideDiffs.Count == 0;
        summary.Add($"outside={(outsideDiffs.Count == 0 ? "ok" : "FAIL")}");
        Console.WriteLine($"  seed {o.Seed}; op log {opLogPath}; service log {serviceLogPath}");
        Console.WriteLine($"  timings: initial {initial.Elapsed.TotalSeconds:F1} s (to visible), churn {churn.Elapsed.TotalSeconds:F1} s, settle {settle.Elapsed.TotalSeconds:F1} s, total {total.Elapsed.TotalSeconds:F1} s");
        report.WriteLine($"RESULT seed={o.Seed} ops={o.Ops} only={o.Only ?? "all"} {string.Join(" ", summary)}");
        report.Dispose();
        Console.WriteLine($"RESULT seed={o.Seed} ops={o.Ops} only={o.Only ?? "all"} {string.Join(" ", summary)} settle={settle.Elapsed.TotalSeconds:F1}s => {(allOk ? "PASS" : "FAIL")}");

        if (allOk && !o.Keep) RemoveAll(work);
        else Console.WriteLine($"  work dir kept: {work}");
        return allOk ? 0 : 1;
    }

    /// <summary>Polls the exact comparison every 500 ms until every replica equals the source or the time is up.</summary>
    static (bool, Dictionary<string, List<string>>) WaitConverged(string src, string replicas, List<TargetProfile> profiles, Options o, TimeSpan timeout, Service service, bool structureOnly = false)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var s = Snapshot.Take(src, Excludes);
            var diffs = profiles.ToDictionary(p => p.Kind, p => Comparer.Compare(s, Snapshot.Take(Path.Combine(replicas, p.Kind), Excludes), p, o.DirTimes)
                // "Visible" (the initial sync): every name there with its kind and content; metadata is judged at the end.
                .Where(d => !structureOnly || !d.StartsWith("differs:") || d.Contains("content") || d.Contains("link target")).ToList());
            if (diffs.Values.All(d => d.Count == 0)) return (true, diffs);
            if (DateTime.UtcNow >= deadline || !service.Running) return (false, diffs);
            Thread.Sleep(500);
        }
    }

    /// <summary>A second, independent opinion: rsync's own dry-run itemized comparison (line count).</summary>
    static int RsyncItemize(string src, string replica)
    {
        try
        {
            var psi = new ProcessStartInfo("rsync") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-aniHc", "--numeric-ids", "--delete", "--exclude=*.swp", src + "/", replica + "/" }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        }
        catch (Exception) { return -1; }
    }

    static void RemoveAll(string dir)
    {
        // rm, not Directory.Delete: .NET cannot name entries whose names are not UTF-8.
        using var p = Process.Start("rm", new[] { "-rf", "--", dir });
        p.WaitForExit();
    }
}
