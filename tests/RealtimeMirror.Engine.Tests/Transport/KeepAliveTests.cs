using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using RealtimeMirror.Engine.Targets;
using Renci.SshNet;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Transport
{
    /// <summary>
    /// A target's -KeepAliveSeconds really puts keepalives on the wire of an idle connection (what keeps NAT and
    /// firewall state alive through a quiet night), and 0 turns them off: a relay between the client and the test
    /// sshd counts what the client sends while it has nothing to say.
    /// </summary>
    public class KeepAliveTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("rtm-keepalive-").FullName;

        public void Dispose() { try { Directory.Delete(_dir, true); } catch (Exception) { } }

        [SshFact]
        public void An_idle_connection_sends_keepalives_at_the_configured_interval() => IdleTraffic(1, expected: true);

        [SshFact]
        public void Keepalive_zero_sends_nothing_on_an_idle_connection() => IdleTraffic(0, expected: false);

        private void IdleTraffic(int keepAliveSeconds, bool expected)
        {
            using var relay = new CountingRelay(SshTestEnvironment.Target(_dir).Port);
            var target = SshTestEnvironment.Target(_dir).Clone();
            target.Port = relay.Port;
            target.KeepAliveSeconds = keepAliveSeconds;
            target.KnownHostsFile = KnownHostsFor(relay.Port);
            using var client = new SftpClient(SshConnector.ConnectionFor(target));
            SshConnector.Connect(client, target);
            client.ListDirectory(".").ToList(); // settled: the session is up and answered
            Thread.Sleep(300);
            long before = relay.SentByClient;
            int writesBefore = relay.WritesByClient;
            Thread.Sleep(3500); // idle
            long idleBytes = relay.SentByClient - before;
            int idleWrites = relay.WritesByClient - writesBefore;
            if (expected) Assert.True(idleWrites >= 2 && idleBytes > 0, $"{idleWrites} writes, {idleBytes} bytes while idle with keepalive {keepAliveSeconds} s");
            else Assert.Equal(0, idleBytes);
            Assert.True(client.IsConnected);
        }

        /// <summary>The test sshd's host key, listed for the relay's port.</summary>
        private string KnownHostsFor(int port)
        {
            var line = File.ReadAllLines(SshTestEnvironment.Target(_dir).KnownHostsFile).First(l => l.Trim().Length > 0 && !l.StartsWith("#"));
            var path = Path.Combine(_dir, "known_hosts");
            File.WriteAllText(path, $"[127.0.0.1]:{port} {line.Substring(line.IndexOf(' ') + 1)}\n");
            return path;
        }

        /// <summary>Forwards one TCP connection to the sshd and counts the client's writes and bytes.</summary>
        private sealed class CountingRelay : IDisposable
        {
            private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
            private readonly CancellationTokenSource _stop = new CancellationTokenSource();
            private long _sent;
            private int _writes;

            public CountingRelay(int sshdPort)
            {
                _listener.Start();
                Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
                Task.Run(async () =>
                {
                    using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    using var server = new TcpClient();
                    await server.ConnectAsync(IPAddress.Loopback, sshdPort, _stop.Token);
                    var up = Pump(client.GetStream(), server.GetStream(), count: true);
                    var down = Pump(server.GetStream(), client.GetStream(), count: false);
                    await Task.WhenAny(up, down);
                });
            }

            public int Port { get; }
            public long SentByClient => Interlocked.Read(ref _sent);
            public int WritesByClient => Volatile.Read(ref _writes);

            private async Task Pump(NetworkStream from, NetworkStream to, bool count)
            {
                var buffer = new byte[65536];
                try
                {
                    int n;
                    while ((n = await from.ReadAsync(buffer, _stop.Token)) > 0)
                    {
                        if (count) { Interlocked.Add(ref _sent, n); Interlocked.Increment(ref _writes); }
                        await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                    }
                }
                catch (Exception) { /* the test is over or the connection closed */ }
            }

            public void Dispose()
            {
                _stop.Cancel();
                _listener.Stop();
            }
        }
    }
}
