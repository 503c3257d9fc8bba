using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Starts watching one or more trees. Alone, it returns the watch for Get-MirrorEvent. With -Target it is
    /// the mirror service: watch first, then the optional initial sync, then every settled change applied to
    /// each target in the background; with -Wait it stays in the foreground (for systemd) and streams results.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "MirrorWatch", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
    [OutputType(typeof(MirrorWatch), typeof(SyncResult))]
    public sealed class StartMirrorWatchCommand : TargetSettingsCmdletBase
    {
        /// <summary>The directories to watch; wildcards allowed (each matching directory is a root).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Path", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        public string[] Path { get; set; }

        /// <summary>The directories to watch, taken exactly as typed; what Get-ChildItem's objects bind to (PSPath, FullName).</summary>
        [Parameter(Mandatory = true, ParameterSetName = "LiteralPath", ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP", "FullName")]
        public string[] LiteralPath { get; set; }

        /// <summary>How long a path must stay quiet before its event is emitted.</summary>
        [Parameter]
        [ValidateRange(0, 60000)]
        public int SettleMilliseconds { get; set; } = 50;

        /// <summary>A path that keeps changing is still sent at most this long after its first unsent change.</summary>
        [Parameter]
        [ValidateRange(10, 600000)]
        public int MaxDelayMilliseconds { get; set; } = 1000;

        /// <summary>Events held for a slow or absent consumer before they are folded into one Rescan per root (a full compare), so memory stays bounded.</summary>
        [Parameter]
        [ValidateRange(100, int.MaxValue)]
        public int MaxQueuedEvents { get; set; } = WatchOptions.DefaultMaxQueuedEvents;

        /// <summary>The OS interface that reports changes: Auto (fanotify where permitted, else inotify on Linux, else FileSystemWatcher), Fanotify, Inotify or Portable.</summary>
        [Parameter]
        public WatchBackend Backend { get => (WatchBackend)_backend; set => _backend = (int)value; }
        // Int-backed: a field of an engine enum would make loading this cmdlet type load the engine before the module's
        // load context is hooked up (see EngineLoadContext); the property keeps the engine's enum for binding and Tab.
        private int _backend = (int)WatchBackend.Auto;

        /// <summary>Mirror every change to these targets in the background (service mode).</summary>
        [Parameter]
        [ArgumentCompleter(typeof(TargetNameCompleter))]
        public string[] Target { get; set; }

        /// <summary>Service mode: compare the whole tree with each target first (extraneous replica files are deleted).</summary>
        [Parameter]
        public SwitchParameter InitialSync { get; set; }

        /// <summary>Service mode: stay in the foreground, writing SyncResult objects, until Ctrl+C.</summary>
        [Parameter]
        public SwitchParameter Wait { get; set; }

        /// <summary>Service mode: also log every applied action and error (UTC time, target, path) to this file, rotated by size.</summary>
        [Parameter]
        public string LogPath { get; set; }

        /// <summary>-LogPath rotates past this size: FILE becomes FILE.1 ... FILE.5 (older ones are dropped).</summary>
        [Parameter]
        [ValidateRange(1024, long.MaxValue)]
        public long LogMaxBytes { get; set; } = Engine.Service.Logging.FileLog.DefaultMaxBytes;

        /// <summary>-Wait: on SIGTERM or Ctrl+C, how long to wait for pending changes to reach the targets before exiting.</summary>
        [Parameter]
        [ValidateRange(0, 86400)]
        public int DrainTimeoutSeconds { get; set; } = 30;

        /// <summary>Service mode: each target compares the whole tree this often, repairing changes made on a replica behind the service's back. 0 disables.</summary>
        [Parameter]
        public TimeSpan VerifyInterval { get; set; } = TimeSpan.FromHours(1);

        /// <summary>Service mode: the first plan of each target is applied even past the halt threshold (resume after a halt at restart).</summary>
        [Parameter]
        [Alias("Resume")]
        public SwitchParameter AllowMassDelete { get; set; }

        private readonly List<string> _roots = new List<string>();

        /// <summary>
        /// Backpressure instead of loss: a worker waits while the pipeline is 10,000 objects behind, so results are
        /// never dropped silently; once the pipeline has stopped (Ctrl+C) there is nobody to hand them to.
        /// </summary>
        private void Hand(BlockingCollection<object> output, object item)
        {
            while (!StopToken.IsCancellationRequested)
            {
                try { if (output.TryAdd(item, 100, StopToken)) return; }
                catch (OperationCanceledException) { return; }
                catch (InvalidOperationException) { return; }
            }
        }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == "LiteralPath")
            {
                foreach (var p in LiteralPath) AddRoot(GetUnresolvedProviderPathFromPSPath(p), p);
                return;
            }
            foreach (var p in Path)
            {
                if (!WildcardPattern.ContainsWildcardCharacters(p)) AddRoot(GetUnresolvedProviderPathFromPSPath(p), p);
                else _roots.AddRange(DirectoriesMatching(p, "Nothing is watched for it.")); // directories already
            }
        }

        private void AddRoot(string full, string input)
        {
            if (IsSourceDirectory(full, input, $"Cannot watch '{full}': it is a file; Start-MirrorWatch watches directories.", $"Cannot watch '{full}': no such directory."))
                _roots.Add(full);
        }

        protected override void EndProcessing()
        {
            if (_roots.Count == 0) return;
            if (VerifyInterval < TimeSpan.Zero)
                ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(nameof(VerifyInterval), "-VerifyInterval cannot be negative (0 disables the periodic verify)."),
                    ErrorIds.VerifyIntervalNegative, ErrorCategory.InvalidArgument, VerifyInterval));
            // -Backend Inotify off Linux, or Fanotify where the kernel, the privileges or a root's filesystem refuse it.
            try { WatcherFactory.Choose(Backend, _roots); }
            catch (PlatformNotSupportedException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, Backend == WatchBackend.Fanotify ? ErrorIds.FanotifyNotAvailable : ErrorIds.InotifyNotSupported,
                    ErrorCategory.InvalidArgument, Backend));
            }
            var exclude = new GlobFilter((Exclude ?? WatchOptions.DefaultExcludes.ToArray()).Concat(ExcludeFilePatterns()));
            var targets = new List<MirrorTarget>();
            foreach (var name in Target ?? Array.Empty<string>())
            {
                var t = ForThisRun(ResolveTarget(name));
                if (t != null) targets.Add(t);
            }
            // One watch serves every target: without a command-line value, the smallest saved value keeps every target's promise.
            int settle = MyInvocation.BoundParameters.ContainsKey(nameof(SettleMilliseconds)) ? SettleMilliseconds
                : targets.Select(t => t.SettleMilliseconds).Where(v => v != null).Select(v => v.Value).DefaultIfEmpty(SettleMilliseconds).Min();
            int maxDelay = MyInvocation.BoundParameters.ContainsKey(nameof(MaxDelayMilliseconds)) ? MaxDelayMilliseconds
                : targets.Select(t => t.MaxDelayMilliseconds).Where(v => v != null).Select(v => v.Value).DefaultIfEmpty(MaxDelayMilliseconds).Min();
            if (Target != null && targets.Count == 0) return;
            try { MirrorTarget.SubdirectoriesFor(_roots); }
            catch (ArgumentException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, ErrorIds.SourceNameClash, ErrorCategory.InvalidArgument, _roots));
            }
            if (targets.Count > 0 && !ShouldProcess(string.Join(", ", _roots),
                    $"Mirror to {string.Join(", ", targets.Select(t => t.Name))}{(InitialSync ? " after a full sync that deletes extraneous replica files" : "")}"))
                return;

            // Before the watch starts: an unwritable -LogPath stops here with nothing left running.
            var log = targets.Count > 0 ? ServiceLogSetup.Open(this, LogPath, LogMaxBytes) : null;
            var verbose = ServiceLogSetup.VerboseWanted(this);
            var watch = WatchRegistry.Start(new WatchOptions
            {
                Roots = _roots,
                Exclude = exclude,
                Settle = TimeSpan.FromMilliseconds(settle),
                MaxDelay = TimeSpan.FromMilliseconds(Math.Max(maxDelay, settle)),
                MaxQueuedEvents = MaxQueuedEvents,
                Backend = Backend,
            });
            WriteVerbose($"Watch {watch.Id}: {watch.BackendNote}");
            if (targets.Count == 0)
            {
                WriteObject(watch);
                return;
            }

            var output = new BlockingCollection<object>(new ConcurrentQueue<object>(), 10_000);
            var service = new MirrorService(watch, targets, new ServiceOptions
            {
                Roots = _roots,
                Exclude = exclude,
                DeleteMode = BoundDeleteMode,
                InitialSync = InitialSync,
                AllowMassDelete = AllowMassDelete,
                // The same bound for each target's queue as for the watch's: a backlog folds into a Rescan either way.
                MaxQueuedEvents = MaxQueuedEvents,
                // Worker threads only hand objects over; the pipeline thread writes them (below).
                OnResult = r => { if (Wait) Hand(output, r); },
                OnError = (target, rel, e) => { if (Wait) Hand(output, TargetErrors.For(target, rel, e)); },
                // Null unless -Verbose: then the engine builds no trace lines at all.
                OnVerbose = verbose ? (target, line) => { if (Wait) Hand(output, new VerboseLine($"{target}: {line}")); } : null,
                Log = log,
                VerifyInterval = VerifyInterval,
                OnStatusError = e => { if (Wait) Hand(output, new ErrorRecord(e, ErrorIds.MirrorStatusNotPublished, ErrorCategory.WriteError, watch)); },
            });
            log?.Write(new Engine.Service.Logging.LogRecord(Engine.Service.Logging.MirrorLogLevel.Info, null, null, "Started",
                $"Mirroring {string.Join(", ", _roots)} to {string.Join(", ", targets.Select(t => t.Name))}{(InitialSync ? " after an initial sync" : "")}."));
            ServiceRegistry.Attach(watch, service);
            service.Start();
            foreach (var t in targets) SourcePathMemory.Remember(Store, t.Name, _roots); // where versions restore to
            if (!Wait)
            {
                WriteObject(watch);
                return;
            }
            new ForegroundService(this, service, watch, output, log, TimeSpan.FromSeconds(DrainTimeoutSeconds), StopToken).Run();
        }
    }
}
