using System;
using RealtimeMirror.Engine.Events;

namespace RealtimeMirror.Engine.Watching
{
    /// <summary>What the OS reported, before coalescing. Kind uses ChangeType (Rescan = events were lost).</summary>
    public readonly struct RawChange
    {
        public RawChange(ChangeType kind, string relativePath, bool? isDirectory, DateTime time, string oldRelativePath = null, bool complete = false)
        {
            Complete = complete;
            Kind = kind;
            RelativePath = relativePath;
            IsDirectory = isDirectory;
            Time = time;
            OldRelativePath = oldRelativePath;
        }

        public ChangeType Kind { get; }
        public string RelativePath { get; }
        public string OldRelativePath { get; }
        /// <summary>Null when the OS did not say and the entry is gone (deletes).</summary>
        public bool? IsDirectory { get; }
        public DateTime Time { get; }
        /// <summary>The writer closed the file (IN_CLOSE_WRITE): no need to wait for the settle window.</summary>
        public bool Complete { get; }

        public override string ToString() => OldRelativePath == null ? $"{Kind} {RelativePath}" : $"{Kind} {OldRelativePath} -> {RelativePath}";
    }
}
