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
        public TargetSession Get(MirrorTarget target, MirrorCmdletBase cmdlet, bool allowDelta = true)
        {
            if (_open.TryGetValue(target.Name, out var session)) return session;
            try
            {
                session = TargetSession.Open(target, false, System.Threading.CancellationToken.None, allowDelta);
            }
            catch (TargetUnavailableException e)
            {
                cmdlet.ReportUnavailable(e, target);
                return null;
            }
            _open[target.Name] = session;
            return session;
        }

        public void Drop(string name)
        {
            if (_open.TryGetValue(name, out var s)) { s.Dispose(); _open.Remove(name); }
        }

        public void Dispose()
        {
            foreach (var s in _open.Values) s.Dispose();
            _open.Clear();
        }
    }
}
