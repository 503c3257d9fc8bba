using System;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Rsync
{
    /// <summary>
    /// A test too long for the Test task (minutes of disk writes): skipped there with the reason shown, run by
    /// `./build.ps1 -Task Soak`, which sets RTM_SOAK=1.
    /// </summary>
    public sealed class SoakFactAttribute : FactAttribute
    {
        public SoakFactAttribute()
        {
            Skip = SoakOnly.SkipReason;
        }
    }

    /// <summary>The same for a theory: each case runs only in Soak.</summary>
    public sealed class SoakTheoryAttribute : TheoryAttribute
    {
        public SoakTheoryAttribute()
        {
            Skip = SoakOnly.SkipReason;
        }
    }

    internal static class SoakOnly
    {
        /// <summary>Null (run) under RTM_SOAK=1, else why the test is skipped.</summary>
        public static string SkipReason =>
            Environment.GetEnvironmentVariable("RTM_SOAK") == "1" ? null : "Soak only: ./build.ps1 -Task Soak runs it (RTM_SOAK=1).";
    }
}
