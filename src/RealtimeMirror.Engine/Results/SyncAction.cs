namespace RealtimeMirror.Engine.Results
{
    public enum SyncAction
    {
        /// <summary>The entry did not exist on the replica and was sent (files, links) or made (directories).</summary>
        Copied,
        /// <summary>The content differed and was sent (whole or as a delta).</summary>
        Updated,
        /// <summary>Content was equal; only mode, owner, group or time were set.</summary>
        MetadataOnly,
        Deleted,
        Renamed,
        /// <summary>Already equal: nothing to do.</summary>
        Skipped,
        /// <summary>Planned only (-WhatIf / declined by -Confirm).</summary>
        WouldChange,
        /// <summary>A kept version was put back (Restore-MirrorVersion); OldRelativePath names the version.</summary>
        Restored,
    }
}
