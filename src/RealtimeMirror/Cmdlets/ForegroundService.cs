using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Service.Logging;
using RealtimeMirror.Engine.Service.Systemd;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Start-MirrorWatch -Wait: the pipeline thread writes what the workers hand over (results, errors, verbose
    /// lines) and, between items, does what a long-lived service owes its supervisor: READY=1 once start-up is over,
    /// STATUS= every few seconds, WATCHDOG=1 at half the watchdog interval (from this thread, so a hung loop is
    /// noticed), a drain on SIGTERM or Ctrl+C, and a terminating error once every target is refused for good.
    /// </summary>
    internal sealed class ForegroundService
    {
        private static readonly object WakeUp = new object();
        private static readonly TimeSpan StatusEvery = TimeSpan.FromSeconds(5);

        private readonly PSCmdlet _cmdlet;
        private readonly MirrorService _service;
        private readonly MirrorWatch _watch;
        private readonly BlockingCollection<object> _output;
        private readonly IMirrorLog _log;
        private readonly TimeSpan _drainTimeout;
        private readonly CancellationToken _stop;
        // The signal that asked for the drain: "SIGTERM", or "SIGINT" where no console turns it into a pipeline stop.
        private volatile string _signal;

        public ForegroundService(PSCmdlet cmdlet, MirrorService service, MirrorWatch watch, BlockingCollection<object> output,
            IMirrorLog log, TimeSpan drainTimeout, CancellationToken stop)
        {
            _cmdlet = cmdlet;
            _service = service;
            _watch = watch;
            _output = output;
            _log = log;
            _drainTimeout = drainTimeout;
            _stop = stop;
        }

        public void Run()
        {
            using var notify = SdNotify.FromEnvironment();
            var watchdog = SdNotify.WatchdogInterval();
            // SIGTERM (systemctl stop): keep the process alive, drain, then end it ourselves (below).
            using var sigterm = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            // In a terminal pwsh turns Ctrl+C into a pipeline stop (the catch below); `kill -INT` of a pwsh without a
            // console would otherwise end the process at once, so it drains like SIGTERM too.
            using var sigint = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            bool ready = false, allFailed = false, drained = false;
            Task<bool> drain = null;
            var statusTimer = Stopwatch.StartNew();
            var dogTimer = Stopwatch.StartNew();
            var sw = Stopwatch.StartNew();
            notify?.Status("starting: " + _service.StatusLine());
            try
            {
                while (true)
                {
                    if (_output.TryTake(out var item, 250, _stop)) Write(item);
                    if (!ready && _service.StartupDone)
                    {
                        ready = true;
                        notify?.Ready();
                        notify?.Status(_service.StatusLine());
                        statusTimer.Restart();
                        Log(MirrorLogLevel.Info, "Ready", $"Start-up done in {sw.Elapsed.TotalSeconds:0.0} s: {_service.StatusLine()}");
                    }
                    if (notify != null && statusTimer.Elapsed >= StatusEvery) { notify.Status(_service.StatusLine()); statusTimer.Restart(); }
                    if (notify != null && watchdog is TimeSpan every && dogTimer.Elapsed >= every) { notify.Watchdog(); dogTimer.Restart(); }
                    if (drain == null && _signal != null)
                    {
                        notify?.Stopping();
                        Log(MirrorLogLevel.Info, "Stopping", $"{_signal}: sending what is pending (at most {_drainTimeout.TotalSeconds:0} s).");
                        // The drain waits for the workers, and they may wait for this thread to take their results: so it
                        // runs beside this loop, which keeps writing.
                        drain = Task.Run(() => _service.Drain(_drainTimeout));
                    }
                    if (drain != null && drain.IsCompleted) { drained = drain.Result; break; }
                    if (drain == null && _service.AllFailed) { allFailed = true; break; }
                }
            }
            catch (Exception e) when (e is OperationCanceledException || e is PipelineStoppedException)
            {
                // Ctrl+C (seen while waiting, or while writing): the pipeline is stopping, so workers drop what they hand
                // over (it is logged all the same).
                if (drain == null)
                {
                    notify?.Stopping();
                    Log(MirrorLogLevel.Info, "Stopping", "Ctrl+C: sending what is pending.");
                }
                drained = _service.Drain(_drainTimeout); // a drain a signal started meanwhile only waits along
            }
            finally
            {
                var why = allFailed ? "every target is refused for good" : drained ? "drained" : drain != null || _stop.IsCancellationRequested ? "drain timed out" : "stopped";
                Log(allFailed ? MirrorLogLevel.Error : MirrorLogLevel.Info, "Stopped", $"Service stopped ({why}): {_service.StatusLine()}");
                WatchRegistry.Stop(_watch.Id);
                ServiceRegistry.Detach(_watch.Id); // stops the workers, then closes the log
            }

            if (allFailed)
            {
                while (_output.TryTake(out var rest)) Write(rest); // the refusals themselves, before the verdict
                var reasons = string.Join("; ", _service.Targets.Select(t => $"{t.Target}: {t.LastError}"));
                _cmdlet.ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException($"Every target is refused for good (retrying cannot help), so the mirror service stops. {reasons}"),
                    ErrorIds.AllTargetsFailed, ErrorCategory.ConnectionError, _service.Targets.Select(t => t.Target).ToArray()));
            }
            if (drain == null || _stop.IsCancellationRequested) return; // nothing left to write to after Ctrl+C
            while (_output.TryTake(out var rest)) Write(rest); // what the last batches reported
            // The end SIGTERM asked for, held back only for the drain. Exit 0: the service stopped as asked (errors written
            // earlier would otherwise turn pwsh -Command's status into 1). SIGINT just ends the pipeline.
            if (_signal == "SIGTERM") Environment.Exit(0);
        }

        private void OnSignal(PosixSignalContext ctx)
        {
            ctx.Cancel = true; // keep the process: the loop drains, then ends it
            _signal ??= ctx.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT";
            _output.TryAdd(WakeUp); // wake the loop now instead of at its next tick
        }

        private void Write(object item)
        {
            switch (item)
            {
                case ErrorRecord er: _cmdlet.WriteError(er); break;
                case VerboseLine v: _cmdlet.WriteVerbose(v.Text); break;
                default:
                    if (!ReferenceEquals(item, WakeUp)) _cmdlet.WriteObject(item);
                    break;
            }
        }

        private void Log(MirrorLogLevel level, string action, string message)
        {
            _log?.Write(new LogRecord(level, null, null, action, message));
            if (!_stop.IsCancellationRequested)
            {
                try { _cmdlet.WriteVerbose(message); } catch (PipelineStoppedException) { }
            }
        }
    }
}
