using System.Collections.Generic;
using System.Management.Automation;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// The per-target settings a command line can give, declared once for the three commands that take them:
    /// Register-MirrorTarget saves them with the target; Sync-MirrorTree and Start-MirrorWatch override the saved ones
    /// for this run. Same names, types and validation everywhere; what each means for its command is in docs/*.md. Only
    /// the settings given on the command line count (an absent one leaves the target's own value).
    /// </summary>
    public abstract class TargetSettingsCmdletBase : MirrorCmdletBase
    {
        /// <summary>Compress on the wire (zstd through the host's rsync, like rsync -z; zlib over SFTP, like ssh -C).</summary>
        [Parameter]
        public SwitchParameter Compress { get; set; }

        /// <summary>KiB/s the mirror may use toward a target, over rsync and SFTP (like rsync --bwlimit); 0 = no limit.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int BandwidthLimit { get; set; }

        /// <summary>How much of the replica one plan may delete or overwrite before the target halts ('50%' or a count).</summary>
        [Parameter]
        [ValidateHaltThreshold]
        public string HaltThreshold { get; set; }

        /// <summary>SSH keepalive interval (0 = off).</summary>
        [Parameter]
        [ValidateRange(0, 3600)]
        public int KeepAliveSeconds { get; set; }

        /// <summary>How long a connect, SFTP request or rsync channel may make no progress before the connection counts as lost.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int IoTimeoutSeconds { get; set; }

        /// <summary>Globs never mirrored (Start-MirrorWatch: never reported, replacing its default editor excludes).</summary>
        [Parameter]
        [SupportsWildcards]
        public string[] Exclude { get; set; }

        /// <summary>A file of exclude globs, one a line, '#' comments.</summary>
        [Parameter]
        public string ExcludeFile { get; set; }

        /// <summary>When extraneous replica entries are deleted (Always, Never, Startup, Running).</summary>
        [Parameter]
        public DeleteMode DeleteMode { get => (DeleteMode)_deleteMode; set => _deleteMode = (int)value; }
        // Int-backed: a field of an engine enum would make loading this cmdlet type load the engine before the module's
        // load context is hooked up (see EngineLoadContext); the property keeps the engine's enum for binding and Tab.
        private int _deleteMode;

        protected bool Bound(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);

        /// <summary>-DeleteMode when given, else null (the target's saved mode, or the command's default, applies).</summary>
        protected DeleteMode? BoundDeleteMode => Bound(nameof(DeleteMode)) ? DeleteMode : (DeleteMode?)null;

        /// <summary>Writes the connection and transfer settings given on the command line over <paramref name="target"/>'s.</summary>
        protected void OverrideTransferSettings(MirrorTarget target)
        {
            if (Bound(nameof(KeepAliveSeconds))) target.KeepAliveSeconds = KeepAliveSeconds;
            if (Bound(nameof(IoTimeoutSeconds))) target.IoTimeoutSeconds = IoTimeoutSeconds;
            if (Bound(nameof(Compress))) target.Compress = Compress.IsPresent;
            if (Bound(nameof(BandwidthLimit))) target.BandwidthLimit = BandwidthLimit;
            if (Bound(nameof(HaltThreshold))) target.HaltThreshold = string.IsNullOrWhiteSpace(HaltThreshold) ? null : HaltThreshold.Trim();
        }

        /// <summary>The patterns of this command line's -ExcludeFile (none without one); an unreadable file is a terminating error.</summary>
        protected IEnumerable<string> ExcludeFilePatterns()
        {
            if (string.IsNullOrEmpty(ExcludeFile)) return new string[0];
            var full = GetUnresolvedProviderPathFromPSPath(ExcludeFile);
            try { return TargetSettings.ReadExcludeFile("(command line)", full); }
            catch (System.IO.IOException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, ErrorIds.ExcludeFileUnreadable, ErrorCategory.ReadError, full));
                return null;
            }
        }

        /// <summary>A saved target as this run uses it: a copy with the command line's settings over its own (null stays null).</summary>
        protected MirrorTarget ForThisRun(MirrorTarget saved)
        {
            if (saved == null) return null;
            var t = saved.Clone();
            OverrideTransferSettings(t);
            return t;
        }
    }
}
