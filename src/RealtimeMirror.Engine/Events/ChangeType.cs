namespace RealtimeMirror.Engine.Events
{
    public enum ChangeType
    {
        Created,
        Changed,
        Deleted,
        Renamed,
        AttributeChanged,
        /// <summary>Events were lost (watch buffer overflow or watch failure): compare this subtree in full.</summary>
        Rescan,
    }
}
