using System;
using RealtimeMirror.Engine.Versions;

namespace RealtimeMirror.Engine.Transport
{
    public sealed partial class LocalReplica : IReplaceAside
    {
        public Action<string> BeforeReplace { get; set; }
    }
}
