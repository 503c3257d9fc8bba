using System;
using System.Collections.Generic;

namespace RealtimeMirror.Engine.Watching
{
    // What went wrong with watching (a directory the kernel would not watch, a lost root, dropped events): shown as
    // LastError, and kept so a service's log gets every one, also those raised by Start before the service existed.
    public sealed partial class MirrorWatch
    {
        private const int KeptFaults = 100;
        private readonly object _faultGate = new object();
        private readonly List<string> _faults = new List<string>();
        private Action<string> _onFault;

        /// <summary>The last thing that went wrong with watching (Get-MirrorWatch shows it).</summary>
        public string LastError { get; private set; }

        /// <summary>
        /// Hands <paramref name="onFault"/> every fault so far, then each new one as it happens, on the thread that
        /// met it (a reader or the pump): it must be quick and thread-safe, like a log sink.
        /// </summary>
        public void FollowFaults(Action<string> onFault)
        {
            lock (_faultGate)
            {
                foreach (var f in _faults) onFault(f);
                _onFault += onFault;
            }
        }

        private void Fault(string message)
        {
            lock (_faultGate)
            {
                LastError = message;
                if (_faults.Count < KeptFaults) _faults.Add(message); // each condition is said once: a few at most
                _onFault?.Invoke(message);
            }
        }
    }
}
