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
            if (Environment.GetEnvironmentVariable("RTM_SOAK") != "1") Skip = "Soak only: ./build.ps1 -Task Soak runs it (RTM_SOAK=1).";
        }
    }
}
