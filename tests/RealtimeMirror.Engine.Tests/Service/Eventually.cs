using System;
using System.Threading;

namespace RealtimeMirror.Engine.Tests.Service
{
    /// <summary>Waits for what a service does on its own threads: polls a condition until it holds or time runs out.</summary>
    internal static class Eventually
    {
        public static void True(Func<bool> condition, string what, double seconds = 20)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (!condition())
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting for " + what);
                Thread.Sleep(20);
            }
        }
    }
}
