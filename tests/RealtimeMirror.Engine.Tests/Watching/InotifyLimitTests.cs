using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Watching;
using RealtimeMirror.Engine.Watching.Inotify;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace RealtimeMirror.Engine.Tests.Watching
{
    /// <summary>
    /// inotify's two refusals on real kernel answers: the watch limit (ENOSPC) and a directory the watcher may not
    /// read (EACCES). Neither can be met by this test process: it runs as root (no EACCES), and lowering
    /// fs.inotify.max_user_watches would starve every other inotify user on the machine. A user namespace has its
    /// own limit (user.max_inotify_watches, counted on top of the host's) and its root has no rights over files of
    /// an unmapped owner, so the outer test makes one with `unshare`, sets a small limit in it, and runs the inner
    /// test there in a second test host; the inner one is skipped anywhere else.
    /// </summary>
    public class InotifyLimitTests : KernelWatcherFixture
    {
        private const string InsideVariable = "RTM_TEST_INSIDE_USER_NAMESPACE";
        private const int Limit = 24;

        public InotifyLimitTests() : base("rtm-inotify-limit-") { }

        private static (int Code, string Output) Run(string file, IEnumerable<string> args, IDictionary<string, string> env = null)
        {
            var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
            if (env != null) foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;
            using var p = Process.Start(psi);
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output + err.Result);
        }

        [KernelFact]
        public void The_real_watch_limit_and_an_unreadable_directory_are_reported_once_rescanned_and_never_restart_the_watch()
        {
            if (Environment.GetEnvironmentVariable(InsideVariable) != null) return; // this is the inner host
            if (Run("unshare", new[] { "-U", "-r", "true" }).Code != 0) return; // no user namespaces here: nothing to test
            // Two roots, watched one after the other: "access" has a directory of a user the namespace does not map
            // (its root may not read it); "full" has more directories than the watches left.
            Directory.CreateDirectory(S("access/top"));
            Directory.CreateDirectory(S("access/locked/inner"));
            for (int i = 0; i < 40; i++) Directory.CreateDirectory(S($"full/d{i:00}"));
            Assert.Equal(0, Run("chown", new[] { "-R", "4000123:4000123", S("access/locked") }).Code);
            File.SetUnixFileMode(S("access/locked"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            var dll = typeof(InotifyLimitTests).Assembly.Location;
            var inner = nameof(InotifyLimitTests) + "." + nameof(Inside_a_user_namespace_with_a_small_watch_limit);
            // Only the namespace's own limit is written: fs.inotify.max_user_watches there is the host's setting.
            var script = $"echo {Limit} > /proc/sys/user/max_inotify_watches && exec dotnet test \"$0\" --nologo --filter \"FullyQualifiedName~{inner}\"";
            var (code, output) = Run("unshare", new[] { "-U", "-r", "sh", "-c", script, dll },
                new Dictionary<string, string> { [InsideVariable] = _src });
            Assert.True(code == 0 && output.Contains("Passed:     1"), output);
        }

        [InsideUserNamespaceFact]
        public void Inside_a_user_namespace_with_a_small_watch_limit()
        {
            var src = Environment.GetEnvironmentVariable(InsideVariable);
            var rescan = TimeSpan.FromMilliseconds(400);
            var accessFaults = new ConcurrentQueue<string>();
            var fullFaults = new ConcurrentQueue<string>();
            var accessRaw = new ConcurrentQueue<RawChange>();
            using var access = new InotifyWatcher(Path.Combine(src, "access"), GlobFilter.None, accessRaw, accessFaults.Enqueue, null) { UnwatchedRescanInterval = rescan };
            using var full = new InotifyWatcher(Path.Combine(src, "full"), GlobFilter.None, _raw, fullFaults.Enqueue, null) { UnwatchedRescanInterval = rescan };
            access.Start();
            full.Start();

            // Each condition once, naming the directory and the fix.
            Assert.Equal(new[] { "", "top" }, access.WatchedDirectories());
            var denied = Assert.Single(accessFaults);
            Assert.Contains($"cannot watch '{src}/access/locked' with inotify: permission denied", denied);
            Assert.True(access.WatchCount + full.WatchCount <= Limit, $"{access.WatchCount} + {full.WatchCount} watches");
            var limit = Assert.Single(fullFaults);
            Assert.Contains($"cannot watch '{src}/full/d", limit);
            Assert.Contains($"(user.max_inotify_watches = {Limit} in this user namespace)", limit);
            Assert.Contains("sysctl user.max_inotify_watches=", limit);

            // A watched directory reports as always; the refused subtrees are rescanned on the timer, again and
            // again, without a word more and without a Rescan of the whole root (the old restart loop).
            var watched = full.WatchedDirectories().Last();
            var unwatched = Enumerable.Range(0, 40).Select(i => $"d{i:00}").First(d => !full.WatchedDirectories().Contains(d));
            File.WriteAllText(Path.Combine(src, "full", watched, "f"), "x");
            Assert.True(WaitFor(Is(ChangeType.Created, watched + "/f")), Seen);
            File.WriteAllText(Path.Combine(src, "full", unwatched, "g"), "y");
            for (int round = 0; round < 3; round++)
            {
                _seen.Clear();
                Assert.True(WaitFor(Is(ChangeType.Rescan, unwatched), 3), Seen);
                Assert.True(SpinWait.SpinUntil(() => accessRaw.Any(c => c.Kind == ChangeType.Rescan && c.RelativePath == "locked"), 3000));
                while (accessRaw.TryDequeue(out _)) { }
            }
            Drain(100);
            Assert.Single(accessFaults);
            Assert.Single(fullFaults);
            Assert.DoesNotContain(_seen, c => c.Kind == ChangeType.Rescan && c.RelativePath.Length == 0);
            Assert.Equal(0, full.Overflows + access.Overflows);
        }
    }

    /// <summary>A [Fact] that runs only inside the user namespace InotifyLimitTests makes (skipped anywhere else).</summary>
    [XunitTestCaseDiscoverer("RealtimeMirror.Engine.Tests.Watching.InsideUserNamespaceFactDiscoverer", "RealtimeMirror.Engine.Tests")]
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class InsideUserNamespaceFactAttribute : FactAttribute { }

    public sealed class InsideUserNamespaceFactDiscoverer : SkippableFactDiscoverer
    {
        public InsideUserNamespaceFactDiscoverer(IMessageSink sink) : base(sink) { }
        protected override string SkipReason(ITestMethod method) => Environment.GetEnvironmentVariable("RTM_TEST_INSIDE_USER_NAMESPACE") == null
            ? "runs inside the user namespace that The_real_watch_limit_and_an_unreadable_directory_... makes" : null;
    }
}
