using System.Collections.Concurrent;
using RealtimeMirror.Engine.Service;
using RealtimeMirror.Engine.Watching;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>Which watches feed a mirror service, so Get-/Stop-MirrorWatch can show and stop it too.</summary>
    internal static class ServiceRegistry
    {
        private static readonly ConcurrentDictionary<int, MirrorService> Services = new ConcurrentDictionary<int, MirrorService>();

        public static void Attach(MirrorWatch watch, MirrorService service) => Services[watch.Id] = service;

        public static MirrorService For(int watchId) => Services.TryGetValue(watchId, out var s) ? s : null;

        public static System.Collections.Generic.IEnumerable<MirrorService> All => Services.Values;

        public static void Detach(int watchId)
        {
            if (Services.TryRemove(watchId, out var s)) s.Stop();
        }
    }
}
