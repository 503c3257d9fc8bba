using System;
using System.Management.Automation;
using System.Threading;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>What every RealtimeMirror cmdlet shares: the target store, Ctrl+C, and well-formed ErrorRecords.</summary>
    public abstract class MirrorCmdletBase : PSCmdlet
    {
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();

        /// <summary>Cancelled by Ctrl+C (StopProcessing).</summary>
        protected CancellationToken StopToken => _stop.Token;

        protected TargetStore Store { get; } = new TargetStore();

        protected override void StopProcessing() => _stop.Cancel();

        protected MirrorTarget ResolveTarget(string name)
        {
            MirrorTarget target;
            try { target = Store.Find(name); }
            catch (Exception e)
            {
                WriteError(new ErrorRecord(e, "TargetStoreUnreadable", ErrorCategory.ReadError, Store.FilePath));
                return null;
            }
            if (target == null)
            {
                WriteError(new ErrorRecord(
                    new ItemNotFoundException($"No mirror target is named '{name}'. Register one with Register-MirrorTarget, or list them with Get-MirrorTarget."),
                    "TargetNotFound", ErrorCategory.ObjectNotFound, name));
                return null;
            }
            var cached = SessionCredentials.PasswordFor(target.Name);
            if (cached != null) target.SetPassword(cached);
            return target;
        }

        internal void ReportUnavailable(TargetUnavailableException e, MirrorTarget target) => WriteTargetUnavailable(e, target);

        protected void WriteTargetUnavailable(TargetUnavailableException e, MirrorTarget target) =>
            WriteError(new ErrorRecord(e, e.IsPermanent ? "TargetRefused" : "TargetUnreachable",
                e.IsPermanent ? ErrorCategory.AuthenticationError : ErrorCategory.ConnectionError, target?.Name));
    }
}
