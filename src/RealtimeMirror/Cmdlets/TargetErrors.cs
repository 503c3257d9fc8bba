using System;
using System.Linq;
using System.Management.Automation;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// The ErrorRecords for what goes wrong while mirroring to a target, from a one-shot sync and from the service alike:
    /// one id per cause (see ErrorIds), the target's name in the message (ErrorDetails, worded by TargetErrorText; the
    /// exception stays the original one for `catch [type]`) and in TargetObject: "TARGET" for the target as a whole,
    /// "TARGET:PATH" for one entry.
    /// </summary>
    internal static class TargetErrors
    {
        /// <summary>What a sync reported for <paramref name="relativePath"/> ("" for the target as a whole).</summary>
        public static ErrorRecord For(string target, string relativePath, Exception e)
        {
            if (ReplicaFailure.IsConnectionLost(e) && !(e is OperationCanceledException)) return Unavailable(e, target);
            switch (e)
            {
                case MassDeletionHaltedException _:
                    return Named(e, ErrorIds.MassDeletionHalted, ErrorCategory.LimitsExceeded, target, target, "",
                        "Check the source; if the deletes are intended, run again with -Force or a higher -HaltThreshold (the service: Resume-MirrorTarget).");
                case TargetOverlapsSourceException _:
                    return Named(e, ErrorIds.TargetOverlapsSource, ErrorCategory.InvalidArgument, target, target, "");
                case ExcludeFileUnreadableException _:
                    return Named(e, ErrorIds.ExcludeFileUnreadable, ErrorCategory.ReadError, target, target, "");
                case SourceRootMissingException _:
                    return Named(e, ErrorIds.SourceNotFound, ErrorCategory.ObjectNotFound, target, target, "");
                default:
                    return Named(e, ErrorIds.SyncEntryFailed, e is UnauthorizedAccessException ? ErrorCategory.PermissionDenied : ErrorCategory.WriteError,
                        $"{target}:{relativePath}", target, relativePath);
            }
        }

        /// <summary>
        /// The target cannot be used now (unreachable, connection lost: retried), for good (refused: authentication, host
        /// key, a greeting shell), or its replica root cannot be opened. Any connection-lost exception is accepted.
        /// </summary>
        public static ErrorRecord Unavailable(Exception e, string target)
        {
            var u = e as TargetUnavailableException ?? new TargetUnavailableException($"Target '{target}': connection lost: {Reason(e)}", e);
            if (u is ReplicaRootUnavailableException)
                return Named(u, ErrorIds.ReplicaRootUnavailable, ErrorCategory.ResourceUnavailable, target, target, "");
            return u.IsPermanent
                ? Named(u, ErrorIds.TargetRefused, ErrorCategory.AuthenticationError, target, target, "")
                : Named(u, ErrorIds.TargetUnreachable, ErrorCategory.ConnectionError, target, target, "");
        }

        /// <summary>
        /// Parallel SFTP requests that all failed on one dead link arrive as "One or more errors occurred. (Client not
        /// connected.) (Client not connected.) ...": say each distinct reason once.
        /// </summary>
        private static string Reason(Exception e) =>
            e is AggregateException a && a.InnerExceptions.Count > 0
                ? string.Join("; ", a.Flatten().InnerExceptions.Select(i => i.Message).Distinct())
                : e.Message;

        /// <summary>An error about one entry of a target's versions area (listing, pruning).</summary>
        public static ErrorRecord VersionEntry(string id, ErrorCategory category, string target, string relativePath, Exception e) =>
            Named(e, id, category, $"{target}:{relativePath}", target, relativePath);

        private static ErrorRecord Named(Exception e, string id, ErrorCategory category, object targetObject, string target, string relativePath,
            string recommendedAction = null)
        {
            var record = new ErrorRecord(e, id, category, targetObject);
            var text = TargetErrorText.Of(target, relativePath, e.Message);
            if (text != e.Message || recommendedAction != null)
                record.ErrorDetails = new ErrorDetails(text) { RecommendedAction = recommendedAction };
            return record;
        }
    }
}
