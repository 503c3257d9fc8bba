using System.Management.Automation;

namespace RealtimeMirror.Cmdlets
{
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
