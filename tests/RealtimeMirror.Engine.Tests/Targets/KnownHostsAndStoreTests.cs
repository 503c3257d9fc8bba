using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using RealtimeMirror.Engine.Targets;
using Xunit;

namespace RealtimeMirror.Engine.Tests.Targets
{
    public class KnownHostsAndStoreTests : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("rtm-kh-").FullName;
        public void Dispose() => Directory.Delete(_dir, true);

        [Fact]
        public void Unknown_then_recorded_then_trusted_and_a_different_key_is_a_mismatch()
        {
            var kh = new KnownHosts(Path.Combine(_dir, "known_hosts"));
            var key = new byte[] { 1, 2, 3 };
            Assert.Equal(KnownHosts.Verdict.Unknown, kh.Check("h", 2222, "ssh-ed25519", key));
            kh.Add("h", 2222, "ssh-ed25519", key);
            Assert.Contains("[h]:2222 ssh-ed25519 AQID", File.ReadAllText(kh.FilePath));
            Assert.Equal(KnownHosts.Verdict.Trusted, kh.Check("h", 2222, "ssh-ed25519", key));
            Assert.Equal(KnownHosts.Verdict.Mismatch, kh.Check("h", 2222, "ssh-ed25519", new byte[] { 9 }));
            Assert.Equal(KnownHosts.Verdict.Unknown, kh.Check("h", 22, "ssh-ed25519", key));
        }

        [Fact]
        public void Hashed_host_entries_are_understood()
        {
            var salt = RandomNumberGenerator.GetBytes(20);
            var hash = new HMACSHA1(salt).ComputeHash(Encoding.UTF8.GetBytes("example.org"));
            var path = Path.Combine(_dir, "hashed");
            File.WriteAllText(path, $"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(hash)} ssh-rsa AQID\n");
            Assert.Equal(KnownHosts.Verdict.Trusted, new KnownHosts(path).Check("example.org", 22, "ssh-rsa", new byte[] { 1, 2, 3 }));
        }

        [Fact]
        public void A_host_known_with_another_key_type_is_a_mismatch_not_unknown()
        {
            var path = Path.Combine(_dir, "types");
            File.WriteAllText(path, "[h]:2222 ssh-rsa AQID\nother ssh-ed25519 BAUG\n");
            var kh = new KnownHosts(path);
            Assert.Equal(KnownHosts.Verdict.Mismatch, kh.Check("h", 2222, "ssh-ed25519", new byte[] { 4, 5, 6 }));
            Assert.Equal(KnownHosts.Verdict.Mismatch, kh.Check("h", 2222, "ecdsa-sha2-nistp256", new byte[] { 1, 2, 3 }));
            Assert.Equal(KnownHosts.Verdict.Trusted, kh.Check("h", 2222, "ssh-rsa", new byte[] { 1, 2, 3 }));
            Assert.Equal(KnownHosts.Verdict.Unknown, kh.Check("h", 22, "ssh-ed25519", new byte[] { 4, 5, 6 }));
            Assert.Equal(KnownHosts.Verdict.Trusted, kh.Check("other", 22, "ssh-ed25519", new byte[] { 4, 5, 6 }));
            // A second type listed for the host is trusted too.
            File.AppendAllText(path, "[h]:2222 ssh-ed25519 BAUG\n");
            Assert.Equal(KnownHosts.Verdict.Trusted, kh.Check("h", 2222, "ssh-ed25519", new byte[] { 4, 5, 6 }));
        }

        [Fact]
        public void Revoked_keys_are_refused_even_when_also_listed_as_trusted()
        {
            var path = Path.Combine(_dir, "revoked");
            File.WriteAllText(path, "h ssh-ed25519 AQID\n@revoked * ssh-ed25519 AQID\n@revoked h2 ssh-rsa BAUG\n");
            var kh = new KnownHosts(path);
            Assert.Equal(KnownHosts.Verdict.Revoked, kh.Check("h", 22, "ssh-ed25519", new byte[] { 1, 2, 3 }));
            Assert.Equal(KnownHosts.Verdict.Revoked, kh.Check("elsewhere", 2222, "ssh-ed25519", new byte[] { 1, 2, 3 }));
            Assert.Equal(KnownHosts.Verdict.Revoked, kh.Check("h2", 22, "ssh-rsa", new byte[] { 4, 5, 6 }));
            // A revoked line is no trust entry: h2 stays unknown for another key.
            Assert.Equal(KnownHosts.Verdict.Unknown, kh.Check("h2", 22, "ssh-rsa", new byte[] { 7, 8, 9 }));
            Assert.Equal(KnownHosts.Verdict.Unknown, kh.Check("h3", 22, "ssh-rsa", new byte[] { 4, 5, 6 }));
        }

        [Fact]
        public void Host_patterns_with_wildcards_and_negation()
        {
            var path = Path.Combine(_dir, "patterns");
            File.WriteAllText(path, "*.example.org,!bad.example.org ssh-ed25519 AQID\n");
            var kh = new KnownHosts(path);
            Assert.Equal(KnownHosts.Verdict.Trusted, kh.Check("a.example.org", 22, "ssh-ed25519", new byte[] { 1, 2, 3 }));
            Assert.Equal(KnownHosts.Verdict.Unknown, kh.Check("bad.example.org", 22, "ssh-ed25519", new byte[] { 1, 2, 3 }));
            Assert.Equal(KnownHosts.Verdict.Unknown, kh.Check("example.com", 22, "ssh-ed25519", new byte[] { 1, 2, 3 }));
        }

        [Fact]
        public void Store_round_trips_targets_and_never_writes_passwords()
        {
            var store = new TargetStore(Path.Combine(_dir, "cfg", "targets.json"));
            store.Save(new MirrorTarget { Name = "b", Kind = TargetKind.Ssh, HostName = "h", RemotePath = "/r", Password = "secret" });
            store.Save(new MirrorTarget { Name = "a", Kind = TargetKind.Local, Path = "/x" });
            Assert.Equal(new[] { "a", "b" }, System.Linq.Enumerable.Select(store.Load(), t => t.Name));
            Assert.DoesNotContain("secret", File.ReadAllText(store.FilePath));
            Assert.Equal("h", store.Find("B").HostName);
            Assert.True(store.Remove("a"));
            Assert.False(store.Remove("a"));
        }
    }
}
