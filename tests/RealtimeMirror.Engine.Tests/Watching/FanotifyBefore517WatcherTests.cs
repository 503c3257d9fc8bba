namespace RealtimeMirror.Engine.Tests.Watching
{
    /// <summary>
    /// The fanotify backend as it runs on kernels 5.9 to 5.16: no FAN_RENAME and no target handles, so a move is
    /// two events (a delete where it was, a create where it is) and a directory's own handle is never in them. The
    /// group is opened that way on this newer kernel, and every shared kernel test and every fanotify test runs
    /// again: the hints differ (no Renamed), the directory map and what is reported later must not.
    /// </summary>
    public class FanotifyBefore517WatcherTests : FanotifyWatcherTests
    {
        public FanotifyBefore517WatcherTests() : base("rtm-fanotify516-") { }

        protected override bool AsBeforeLinux517 => true;
    }
}
