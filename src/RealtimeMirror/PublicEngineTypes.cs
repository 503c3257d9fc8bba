using System;
using RealtimeMirror.Engine.Events;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Results;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Versions;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror
{
    /// <summary>
    /// The engine types a user meets: what the cmdlets take and return, and the enums on them. They are registered
    /// as type accelerators at import (see <see cref="ModuleInitializer"/>); add a type here when a cmdlet starts
    /// taking or returning it.
    /// </summary>
    internal static class PublicEngineTypes
    {
        internal static readonly Type[] All =
        {
            typeof(MirrorEvent), typeof(ChangeType),
            typeof(SyncResult), typeof(SyncAction), typeof(EntryKind),
            typeof(MirrorTarget), typeof(TargetKind), typeof(RsyncMode), typeof(DeleteMode),
            typeof(MirrorWatch), typeof(WatchState), typeof(WatchBackend),
            typeof(TargetStatus), typeof(TargetState),
            typeof(MirrorVersion),
            // Asked by tests/Fanotify.Tests.ps1 whether fanotify can run here (and why not).
            typeof(WatcherFactory),
        };
    }
}
