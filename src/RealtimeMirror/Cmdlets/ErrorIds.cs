namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// Every FullyQualifiedErrorId the module raises, one per cause: a script can branch on the id without reading
    /// messages, so one cause never gets two ids and two causes never share one. README's "Error ids" table lists the
    /// same set (tests/Polish.Tests.ps1 keeps both and the code in step; no ErrorRecord names an id by a bare string).
    /// </summary>
    internal static class ErrorIds
    {
        // Targets and the target file.
        public const string TargetNotFound = nameof(TargetNotFound);
        public const string TargetExists = nameof(TargetExists);
        public const string TargetStoreUnreadable = nameof(TargetStoreUnreadable);
        public const string InvalidTargetObject = nameof(InvalidTargetObject);
        public const string KeyFileNotFound = nameof(KeyFileNotFound);
        public const string ExcludeFileUnreadable = nameof(ExcludeFileUnreadable);

        // Reaching a target.
        public const string TargetUnreachable = nameof(TargetUnreachable);
        public const string TargetRefused = nameof(TargetRefused);
        public const string ReplicaRootUnavailable = nameof(ReplicaRootUnavailable);
        public const string AllTargetsFailed = nameof(AllTargetsFailed);

        // Mirroring.
        public const string SyncEntryFailed = nameof(SyncEntryFailed);
        public const string MassDeletionHalted = nameof(MassDeletionHalted);
        public const string TargetOverlapsSource = nameof(TargetOverlapsSource);
        public const string SourceNotFound = nameof(SourceNotFound);
        public const string SourceNameClash = nameof(SourceNameClash);
        public const string InvalidSourcePattern = nameof(InvalidSourcePattern);
        public const string NotAMirrorEvent = nameof(NotAMirrorEvent);
        public const string DeleteWithEvents = nameof(DeleteWithEvents);
        public const string HaltedTargetNotFound = nameof(HaltedTargetNotFound);

        // Watches and services.
        public const string WatchNotFound = nameof(WatchNotFound);
        public const string WatchOwnedByService = nameof(WatchOwnedByService);
        public const string FanotifyNotAvailable = nameof(FanotifyNotAvailable);
        public const string InotifyNotSupported = nameof(InotifyNotSupported);
        public const string VerifyIntervalNegative = nameof(VerifyIntervalNegative);
        public const string LogPathUnwritable = nameof(LogPathUnwritable);
        public const string MirrorStatusNotPublished = nameof(MirrorStatusNotPublished);
        public const string ServiceStatusUnreadable = nameof(ServiceStatusUnreadable);
        public const string ServiceSignalFailed = nameof(ServiceSignalFailed);

        // Versions.
        public const string VersionNotFound = nameof(VersionNotFound);
        public const string VersionSourceUnknown = nameof(VersionSourceUnknown);
        public const string VersionListFailed = nameof(VersionListFailed);
        public const string VersionPruneFailed = nameof(VersionPruneFailed);
        public const string VersionRestoreFailed = nameof(VersionRestoreFailed);
    }
}
