using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Sync
{
    /// <summary>
    /// A source directory, a local replica and the engine's one sync path between them. Trees are changed with the
    /// shell (as a user would) and compared with the machine's own rsync in dry-run mode: an independent judge that
    /// reads names as bytes and compares content, kind, mode, owner, times and link targets.
    /// </summary>
    public sealed class MirrorFixture : IDisposable
    {
        public string Source { get; }
        public string Replica { get; }
        public string Outside { get; }
        public List<SyncResult> Results { get; } = new List<SyncResult>();
        public List<(string Path, Exception Error)> Errors { get; } = new List<(string, Exception)>();
        public List<string> Warnings { get; } = new List<string>();
        public TargetSession Session { get; }
        public SourceRoot Root { get; }

        public MirrorFixture(MirrorTarget target = null)
        {
            var top = Directory.CreateTempSubdirectory("rtm-sync-").FullName;
            Source = Path.Combine(top, "src");
            Replica = Path.Combine(top, "replica");
            Outside = Path.Combine(top, "outside");
            Directory.CreateDirectory(Source);
            Directory.CreateDirectory(Outside);
            File.WriteAllText(Path.Combine(Outside, "keep"), "outside the replica");
            target ??= new MirrorTarget { Name = "t", Kind = TargetKind.Local, Path = Replica };
            Session = TargetSession.Open(target, false, CancellationToken.None);
            Root = new SourceRoot(Source);
        }

        public SyncOptions Options(bool delete = true) => new SyncOptions
        {
            Delete = delete,
            OnResult = Results.Add,
            OnError = (p, e) => Errors.Add((p, e)),
            OnWarning = (p, why) => Warnings.Add(p + ": " + why),
        };

        public void SyncAll(bool delete = true) => Session.Sync(Root, new[] { SyncHint.WholeTree() }, Options(delete));

        /// <summary>Applies events the way the service does: each one only says where to look.</summary>
        public void Apply(params (ChangeType Kind, string Path, string Old, bool IsDir)[] events) =>
            Session.Sync(Root, events.SelectMany(e => SyncHint.FromEvent(e.Kind, e.Path, e.Old, e.IsDir)).ToList(), Options());

        /// <summary>Runs bash with $S (source), $R (replica) and $O (outside) set; fails the test on a non-zero exit.</summary>
        public string Sh(string script)
        {
            var psi = new ProcessStartInfo("bash", new[] { "-euc", script }) { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.Environment["S"] = Source;
            psi.Environment["R"] = Replica;
            psi.Environment["O"] = Outside;
            using var p = Process.Start(psi);
            var output = p.StandardOutput.ReadToEnd();
            var error = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"shell failed ({p.ExitCode}): {script}\n{error}");
            return output;
        }

        /// <summary>Runs mount with these arguments; false (the test then skips that part) where mounting is not permitted.</summary>
        public bool TryMount(string arguments)
        {
            var psi = new ProcessStartInfo("bash", new[] { "-c", "mount " + arguments }) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi);
            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }

        /// <summary>rsync's itemized list of what differs (empty when the replica equals the source).</summary>
        public string Differences()
        {
            var psi = new ProcessStartInfo("rsync", new[] { "-naiHcD", "--numeric-ids", "--delete", "--exclude=.rtm-versions", Source + "/", Replica + "/" })
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi);
            var output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return output.Trim();
        }

        public void AssertEqual()
        {
            var diff = Differences();
            Assert.True(diff.Length == 0, "replica differs from source:\n" + diff + "\nerrors: " + string.Join("; ", Errors.Select(e => e.Path + ": " + e.Error.Message)));
            Assert.Equal("outside the replica", File.ReadAllText(Path.Combine(Outside, "keep")));
        }

        public void Dispose()
        {
            Session.Dispose();
            Root.Dispose();
            try { Sh("chmod -R u+rwx \"$S\" \"$R\" 2>/dev/null || true; rm -rf \"$(dirname \"$S\")\""); } catch (Exception) { }
        }
    }
}
