using System;
using System.Linq;
using System.Net.Sockets;
using System.Reflection;
using Renci.SshNet;

namespace RealtimeMirror.Engine.Transport
{
    /// <summary>
    /// Tears down an SSH.NET connection without talking to the peer. Disconnect() and closing a channel both send a
    /// message first, and against a frozen host with full TCP buffers that send blocks forever (SSH.NET sets no send
    /// timeout). Shutting the socket down makes every blocked send and receive fail at once; SSH.NET then sees the
    /// connection as lost and wakes every waiter. The socket is reached by reflection on its session (the SSH.NET
    /// version is pinned in the project file); when it cannot be found, Disconnect() is the fallback.
    /// </summary>
    internal static class SshSocketAbort
    {
        private static readonly PropertyInfo SessionProperty =
            typeof(BaseClient).GetProperty("Session", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);

        public static void Abort(BaseClient client)
        {
            var session = SessionProperty?.GetValue(client);
            var socketField = session?.GetType().GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
                .FirstOrDefault(f => typeof(Socket).IsAssignableFrom(f.FieldType));
            if (socketField?.GetValue(session) is Socket socket)
            {
                try { socket.Shutdown(SocketShutdown.Both); } catch (Exception) { /* already gone */ }
                try { socket.Close(0); } catch (Exception) { }
                return;
            }
            client.Disconnect();
        }
    }
}
