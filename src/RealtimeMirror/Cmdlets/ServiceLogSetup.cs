using System;
using System.Collections.Generic;
using System.Management.Automation;
using RealtimeMirror.Engine.Service.Logging;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>The service's log sinks: -LogPath's rotating file, and the systemd journal when we run under systemd.</summary>
    internal static class ServiceLogSetup
    {
        /// <summary>Null when there is nowhere to log. An unwritable -LogPath is a terminating error, before anything starts.</summary>
        public static IMirrorLog Open(PSCmdlet cmdlet, string logPath, long maxBytes)
        {
            var sinks = new List<IMirrorLog>();
            if (!string.IsNullOrEmpty(logPath))
            {
                var full = cmdlet.GetUnresolvedProviderPathFromPSPath(logPath);
                try { sinks.Add(new FileLog(full, maxBytes)); }
                catch (Exception e)
                {
                    cmdlet.ThrowTerminatingError(new ErrorRecord(new InvalidOperationException($"Cannot write the log file '{full}': {e.Message}", e),
                        ErrorIds.LogPathUnwritable, ErrorCategory.WriteError, logPath));
                }
            }
            var journal = JournalLog.Detect();
            if (journal != null)
            {
                try { sinks.Add(new JournalLog(journal)); }
                catch (Exception e) { cmdlet.WriteWarning($"Cannot log to the systemd journal at {journal}: {e.Message}"); }
            }
            return sinks.Count switch { 0 => null, 1 => sinks[0], _ => new FanOutLog(sinks.ToArray()) };
        }

        /// <summary>-Verbose given, or $VerbosePreference asks for it (and -Verbose:$false not given).</summary>
        public static bool VerboseWanted(PSCmdlet cmdlet)
        {
            if (cmdlet.MyInvocation.BoundParameters.TryGetValue("Verbose", out var v))
                return v is SwitchParameter s ? s.IsPresent : v is bool b && b;
            var pref = cmdlet.GetVariableValue("VerbosePreference");
            return pref is ActionPreference p && p != ActionPreference.SilentlyContinue && p != ActionPreference.Ignore;
        }
    }

    /// <summary>A -Verbose line from a worker thread, written by the pipeline thread.</summary>
    internal sealed class VerboseLine
    {
        public VerboseLine(string text) { Text = text; }
        public string Text { get; }
    }
}
