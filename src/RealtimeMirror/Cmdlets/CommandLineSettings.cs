using System.Collections.Generic;
using System.Management.Automation;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>
    /// The connection settings a command line may give for this run (-KeepAliveSeconds, -IoTimeoutSeconds): a given
    /// value overrides the one saved with the target, an absent one leaves it. Shared by Sync-MirrorTree and
    /// Start-MirrorWatch so both read them the same way.
    /// </summary>
    internal static class CommandLineSettings
    {
        public static MirrorTarget Apply(MirrorTarget target, Dictionary<string, object> bound)
        {
            if (target == null) return null;
            var t = target.Clone();
            if (bound.TryGetValue("KeepAliveSeconds", out var k)) t.KeepAliveSeconds = (int)k;
            if (bound.TryGetValue("IoTimeoutSeconds", out var io)) t.IoTimeoutSeconds = (int)io;
            if (bound.TryGetValue("Compress", out var z)) t.Compress = ((SwitchParameter)z).IsPresent;
            if (bound.TryGetValue("BandwidthLimit", out var bw)) t.BandwidthLimit = (int)bw;
            if (bound.TryGetValue("HaltThreshold", out var h)) t.HaltThreshold = (string)h;
            return t;
        }

        /// <summary>The command line's -ExcludeFile patterns (empty without one); an unreadable file is a terminating error.</summary>
        public static IEnumerable<string> ExcludeFilePatterns(PSCmdlet cmdlet, string excludeFile)
        {
            if (string.IsNullOrEmpty(excludeFile)) return new string[0];
            var full = cmdlet.GetUnresolvedProviderPathFromPSPath(excludeFile);
            try { return TargetSettings.ReadExcludeFile("(command line)", full); }
            catch (System.IO.IOException e)
            {
                cmdlet.ThrowTerminatingError(new ErrorRecord(e, ErrorIds.ExcludeFileUnreadable, ErrorCategory.ReadError, full));
                return null;
            }
        }
    }

    /// <summary>-HaltThreshold: a share like '50%' or a count like '1000'.</summary>
    internal sealed class ValidateHaltThresholdAttribute : ValidateArgumentsAttribute
    {
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            var text = arguments is PSObject p ? p.BaseObject?.ToString() : arguments?.ToString();
            Engine.Sync.HaltThreshold.Parse(text); // throws ArgumentException with the reason
        }
    }

    /// <summary>-VersionRetention: an age like '30d', '12h', '90m', '45s', '2w', or a TimeSpan.</summary>
    internal sealed class ValidateVersionRetentionAttribute : ValidateArgumentsAttribute
    {
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            var text = arguments is PSObject p ? p.BaseObject?.ToString() : arguments?.ToString();
            Engine.Versions.VersionPolicy.ParseRetention(text); // throws ArgumentException with the reason
        }
    }
}
