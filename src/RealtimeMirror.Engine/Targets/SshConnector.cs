using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Sockets;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace RealtimeMirror.Engine.Targets
{
    /// <summary>Raised when a target cannot be reached or refuses us; the message says which and why.</summary>
    public class TargetUnavailableException : Exception
    {
        public TargetUnavailableException(string message, Exception inner = null) : base(message, inner) { }
        /// <summary>Authentication and host-key problems do not fix themselves: retrying is pointless.</summary>
        public bool IsPermanent { get; set; }
    }

    /// <summary>
    /// Connected (or local), but the replica root cannot be opened or made: a cause of its own, apart from an unreachable
    /// host (the remote path's parent is a file, a mount is missing). Retried like a lost connection.
    /// </summary>
    public sealed class ReplicaRootUnavailableException : TargetUnavailableException
    {
        public ReplicaRootUnavailableException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>Builds authenticated, host-key-verified SSH.NET clients for a target.</summary>
    public static class SshConnector
    {
        // Every SSH use comes through here; SSH.NET completes requests on pool threads the engine may be blocking.
        static SshConnector() => Platform.ThreadPoolFloor.Ensure();

        /// <summary>The user a target logs in as: its own, else this process's (as ssh does).</summary>
        public static string LoginUser(MirrorTarget target) => string.IsNullOrEmpty(target.User) ? Environment.UserName : target.User;

        /// <param name="compressed">The SSH connection itself compresses (zlib@openssh.com, delayed until after login, like
        /// `ssh -C`) when the server allows it: how -Compress reaches what goes over SFTP, and what goes to an rsync older
        /// than 3.2. Newer rsyncs' sessions leave it off, since they compress file data with zstd themselves.</param>
        public static ConnectionInfo ConnectionFor(MirrorTarget target, bool compressed = false)
        {
            var user = LoginUser(target);
            var methods = new List<AuthenticationMethod>();
            var keyFiles = new List<string>();
            if (!string.IsNullOrEmpty(target.KeyFile)) keyFiles.Add(target.KeyFile);
            else
            {
                var sshDir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ssh");
                foreach (var name in new[] { "id_ed25519", "id_ecdsa", "id_rsa" })
                    if (File.Exists(Path.Combine(sshDir, name))) keyFiles.Add(Path.Combine(sshDir, name));
            }
            var keys = new List<IPrivateKeySource>();
            foreach (var file in keyFiles)
            {
                try { keys.Add(new PrivateKeyFile(file)); }
                catch (Exception e) when (!string.IsNullOrEmpty(target.KeyFile))
                {
                    throw new TargetUnavailableException($"Target '{target.Name}': cannot read key file '{file}': {e.Message}", e) { IsPermanent = true };
                }
                catch (Exception) { /* a default key we cannot read is just not offered */ }
            }
            if (keys.Count > 0) methods.Add(new PrivateKeyAuthenticationMethod(user, keys.ToArray()));
            if (!string.IsNullOrEmpty(target.Password)) methods.Add(new PasswordAuthenticationMethod(user, target.Password));
            if (methods.Count == 0)
                throw new TargetUnavailableException($"Target '{target.Name}': no key file or credential to log in to {target.HostName} with.") { IsPermanent = true };
            // File names are bytes, not UTF-8: SFTP strings (paths, listings, link targets) and exec commands must
            // carry them exactly, so every channel of this login encodes strings with the one path encoding.
            var info = new ConnectionInfo(target.HostName, target.Port, user, methods.ToArray())
            {
                // Connect, channel-open and window waits: a frozen host must turn into an error, not a hang.
                Timeout = target.IoTimeout,
                Encoding = Paths.PathEncoding.Instance,
            };
            if (compressed) PreferCompression(info.CompressionAlgorithms);
            return info;
        }

        /// <summary>SSH takes the first of the client's algorithms the server also has: "none" goes last.</summary>
        private static void PreferCompression(IDictionary<string, Func<Renci.SshNet.Compression.Compressor>> algorithms)
        {
            if (!algorithms.ContainsKey("zlib@openssh.com") || !algorithms.TryGetValue("none", out var none)) return;
            algorithms.Remove("none");
            algorithms.Add("none", none);
        }

        /// <summary>Connects a client, verifying the host key; TOFU records a new key when allowed.</summary>
        public static void Connect(BaseClient client, MirrorTarget target, bool acceptNewHostKey = false, System.Threading.CancellationToken cancel = default)
        {
            var knownHosts = new KnownHosts(target.KnownHostsFile);
            string refusal = null;
            string keySeen = null; // for -Verbose: the check runs on SSH.NET's thread, the trace sink is this one's
            bool trace = Service.Logging.MirrorTrace.Enabled;
            if (trace)
                Service.Logging.MirrorTrace.Write($"Connecting {client.GetType().Name.Replace("Client", "")} to {client.ConnectionInfo.Username}@{target.HostName} port {target.Port} " +
                    $"(keepalive {(target.KeepAliveSeconds > 0 ? target.KeepAliveSeconds + " s" : "off")}, I/O timeout {client.ConnectionInfo.Timeout.TotalSeconds:0} s).");
            client.HostKeyReceived += (sender, e) =>
            {
                var verdict = knownHosts.Check(target.HostName, target.Port, e.HostKeyName, e.HostKey);
                if (trace) keySeen = $"Host key of {target.HostName}:{target.Port} ({e.HostKeyName} SHA256:{e.FingerPrintSHA256}): " +
                    (verdict == KnownHosts.Verdict.Unknown && acceptNewHostKey ? "new, accepted and recorded" : verdict.ToString()) + $" in {knownHosts.FilePath}.";
                if (verdict == KnownHosts.Verdict.Trusted) { e.CanTrust = true; return; }
                if (verdict == KnownHosts.Verdict.Unknown && acceptNewHostKey)
                {
                    knownHosts.Add(target.HostName, target.Port, e.HostKeyName, e.HostKey);
                    e.CanTrust = true;
                    return;
                }
                e.CanTrust = false;
                refusal = verdict == KnownHosts.Verdict.Revoked
                    ? $"Target '{target.Name}': the host key of {target.HostName}:{target.Port} ({e.HostKeyName} SHA256:{e.FingerPrintSHA256}) is marked @revoked in {knownHosts.FilePath}; refused."
                    : verdict == KnownHosts.Verdict.Mismatch
                    ? $"Target '{target.Name}': the host key of {target.HostName}:{target.Port} ({e.HostKeyName} SHA256:{e.FingerPrintSHA256}) does not match the key(s) listed for that host in {knownHosts.FilePath}. It may have been reinstalled, or someone is intercepting the connection."
                    : $"Target '{target.Name}': the host key of {target.HostName}:{target.Port} ({e.HostKeyName} SHA256:{e.FingerPrintSHA256}) is not in {knownHosts.FilePath}. Check it, then register the target again with -AcceptNewHostKey.";
            };
            // Keepalives keep NAT and firewall state alive through quiet nights, and a write to a dead link fails sooner.
            client.KeepAliveInterval = target.KeepAliveSeconds > 0 ? TimeSpan.FromSeconds(target.KeepAliveSeconds) : System.Threading.Timeout.InfiniteTimeSpan;
            try
            {
                // With a token (the service's Stop), a connect to a frozen host ends at once instead of after the timeout.
                if (cancel.CanBeCanceled) client.ConnectAsync(cancel).GetAwaiter().GetResult();
                else client.Connect();
            }
            catch (SshConnectionException e) when (refusal != null)
            {
                throw new TargetUnavailableException(refusal, e) { IsPermanent = true };
            }
            catch (SshAuthenticationException e)
            {
                throw new TargetUnavailableException($"Target '{target.Name}': {target.User}@{target.HostName} refused authentication: {e.Message}", e) { IsPermanent = true };
            }
            catch (Exception e) when (e is SocketException || e is SshOperationTimeoutException || e is SshConnectionException || e is IOException)
            {
                // Logged in, yet SFTP did not start: an sftp-server run through a shell that prints a greeting waits
                // for a packet length that is really text. Name that rather than report a lost connection forever.
                if (client is SftpClient && client.ConnectionInfo.IsAuthenticated && !cancel.IsCancellationRequested &&
                    LoginShellNoise.Probe(target) is string noise)
                    throw new TargetUnavailableException(LoginShellNoise.Message(target.Name, target.HostName, "SFTP", noise), e) { IsPermanent = true };
                throw new TargetUnavailableException($"Target '{target.Name}': cannot reach {target.HostName}:{target.Port}: {e.Message}", e);
            }
            finally
            {
                if (keySeen != null) Service.Logging.MirrorTrace.Write(keySeen);
            }
            if (refusal != null) throw new TargetUnavailableException(refusal) { IsPermanent = true };
        }
    }
}
