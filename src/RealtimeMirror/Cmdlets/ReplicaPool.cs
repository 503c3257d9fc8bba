using System;
using System.Collections.Generic;
using RealtimeMirror.Engine.Sync;
using RealtimeMirror.Engine.Targets;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>Open target sessions of one cmdlet invocation, so a stream of events reuses one SSH connection per target.</summary>
    internal sealed class ReplicaPool : IDisposable
    {
        private readonly Dictionary<string, TargetSession> _open = new Dictionary<string, TargetSession>(StringComparer.OrdinalIgnoreCase);

        /// <summary>The open session, or null after writing the reason as an ErrorRecord.</summary>
        public TargetSession Get(MirrorTarget target, System.Management.Automation.Cmdlet cmdlet, bool allowDelta = true)
        {
            var key = target.Name + "\n" + target.Path + "\n" + target.RemotePath; // one session per replica subdirectory
            if (_open.TryGetValue(key, out var session)) return session;
            try
            {
                session = TargetSession.Open(target, false, System.Threading.CancellationToken.None, allowDelta);
            }
            catch (TargetUnavailableException e)
            {
                cmdlet.WriteError(TargetErrors.Unavailable(e, target.Name));
                return null;
            }
            _open[key] = session;
            return session;
        }

        public void Drop(string name)
        {
            foreach (var key in new List<string>(_open.Keys))
                if (key.StartsWith(name + "\n", StringComparison.OrdinalIgnoreCase)) { _open[key].Dispose(); _open.Remove(key); }
        }

        public void Dispose()
        {
            foreach (var s in _open.Values) s.Dispose();
            _open.Clear();
        }
    }
}
