using System.IO;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>
    /// rsync's multiplexed message tags (both directions number them alike), and which of them a receiver may send its
    /// sender, at which lengths: the rules rsync's own sender applies (io.c, read_a_msg), so a stock server never breaks
    /// them and anything else is a broken or hostile server. Checked on the frame header, before a byte of the payload
    /// is read or a buffer allocated for it.
    /// </summary>
    internal static class ServerMessageRules
    {
        public const int MsgData = 0, MsgErrorXfer = 1, MsgInfo = 2, MsgError = 3, MsgWarning = 4, MsgIoError = 22,
            MsgIoTimeout = 33, MsgNoop = 42, MsgErrorExit = 86, MsgSuccess = 100, MsgDeleted = 101, MsgNoSend = 102;

        /// <summary>rsync's BIGPATHBUFLEN: its own log lines and names always fit below this ("multiplexing overflow").</summary>
        public const int MaxTextLength = 4096 + 1024;

        /// <summary>
        /// Data frames are read in pieces of at most this size whatever their header claims (rsync's own never exceed
        /// its 64 KiB output buffer), so a frame header costs no memory before its bytes arrive.
        /// </summary>
        public const int MaxDataPiece = 64 * 1024;

        /// <summary>Throws <see cref="InvalidDataException"/> naming the message when <paramref name="length"/> is not one its tag may have.</summary>
        public static void Check(int code, int length)
        {
            bool ok = code switch
            {
                MsgData => true,
                MsgErrorXfer or MsgInfo or MsgError or MsgWarning or MsgDeleted => length < MaxTextLength,
                MsgIoError or MsgIoTimeout or MsgNoSend => length == 4,
                MsgNoop => length == 0,
                // 4 bytes of index; a local server adds the file's dev and inode (8 bytes each).
                MsgSuccess => length == 4 || length == 4 + 8 + 8,
                MsgErrorExit => length == 0 || length == 4,
                _ => throw new InvalidDataException($"The rsync server sent a message no rsync receiver sends its sender (tag {code}, {length} bytes)."),
            };
            if (!ok) throw new InvalidDataException($"The rsync server sent {Name(code)} of {length} bytes, a length that message never has.");
        }

        private static string Name(int code) => code switch
        {
            MsgErrorXfer or MsgInfo or MsgError or MsgWarning => $"a log message (tag {code})",
            MsgIoError => "MSG_IO_ERROR",
            MsgIoTimeout => "MSG_IO_TIMEOUT",
            MsgNoSend => "MSG_NO_SEND",
            MsgNoop => "MSG_NOOP",
            MsgSuccess => "MSG_SUCCESS",
            MsgErrorExit => "MSG_ERROR_EXIT",
            MsgDeleted => "MSG_DELETED",
            _ => $"message {code}",
        };
    }
}
