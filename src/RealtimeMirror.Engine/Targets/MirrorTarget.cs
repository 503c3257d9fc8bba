using System;
using System.Collections.Generic;

namespace RealtimeMirror.Engine.Targets
{
    public enum TargetKind { Local, Ssh }

    public enum RsyncMode { Auto, Always, Never }

    /// <summary>
    /// When replica entries the source no longer has are deleted (lsyncd's delete modes): Always (the initial sync and
    /// events), Never (nothing is ever deleted), Startup (only the initial or one-shot tree sync), Running (only events).
    /// Replica temp files of ours (.NAME.rtm-*) the source does not have are removed in every mode.
    /// </summary>
    public enum DeleteMode { Always, Never, Startup, Running }

    /// <summary>A named replica: a local or mounted directory, or a directory on an SSH host.</summary>
    public sealed class MirrorTarget
    {
        public string Name { get; set; }
        public TargetKind Kind { get; set; }
        /// <summary>Local targets: the replica root.</summary>
        public string Path { get; set; }
        public string HostName { get; set; }
        public int Port { get; set; } = 22;
        public string User { get; set; }
        public string KeyFile { get; set; }
        /// <summary>SSH targets: the replica root on the host (absolute, or relative to the login directory).</summary>
        public string RemotePath { get; set; }
        /// <summary>known_hosts file to verify the host key against; empty means ~/.ssh/known_hosts.</summary>
        public string KnownHostsFile { get; set; }
        /// <summary>Whether to push with the host's own rsync (delta transfer) or whole files over SFTP.</summary>
        public RsyncMode Rsync { get; set; } = RsyncMode.Auto;
        /// <summary>Chown on the replica (only takes effect where the login may, i.e. root).</summary>
        public bool PreserveOwner { get; set; } = true;
        /// <summary>When the target was registered, in local time (RegisteredUtc: the same in UTC).</summary>
        [Newtonsoft.Json.JsonIgnore]
        public DateTime Registered => RegisteredUtc.ToLocalTime();
        /// <summary>Kept in the target file under its old name, "Registered".</summary>
        [Newtonsoft.Json.JsonProperty("Registered")]
        public DateTime RegisteredUtc { get => _registeredUtc; set => _registeredUtc = UtcTime.Of(value); }
        private DateTime _registeredUtc = DateTime.UtcNow;

        // Saved settings (see TargetSettings): used by the service and by one-shot syncs, command-line values override.

        /// <summary>SSH keepalive interval in seconds (0 = off): keeps NAT and firewall state alive through quiet nights.</summary>
        public int KeepAliveSeconds { get; set; } = 15;
        /// <summary>
        /// Seconds an SSH connect, SFTP request or rsync channel may go without progress before the connection is taken
        /// as lost (a silent network drop), so the worker reconnects with backoff instead of waiting forever.
        /// </summary>
        public int IoTimeoutSeconds { get; set; } = 60;
        /// <summary>Exclude globs of this target (GlobFilter semantics), added to the command line's.</summary>
        public string[] Exclude { get; set; }
        /// <summary>A file of exclude globs, one a line ('#' starts a comment); read at every start, so edits apply on restart.</summary>
        public string ExcludeFile { get; set; }
        /// <summary>Null: the command decides (Sync-MirrorTree: -Delete; the service: Always).</summary>
        public DeleteMode? DeleteMode { get; set; }
        /// <summary>Null: the command's default.</summary>
        public int? SettleMilliseconds { get; set; }
        /// <summary>Null: the command's default.</summary>
        public int? MaxDelayMilliseconds { get; set; }

        /// <summary>Compress on the wire: file data through the host's rsync as zstd (like rsync -z), SFTP by compressing the SSH connection (like ssh -C).</summary>
        public bool Compress { get; set; }
        /// <summary>KiB/s the mirror may use toward this target (rsync and SFTP alike; like rsync --bwlimit); 0 = no limit.</summary>
        public int BandwidthLimit { get; set; }
        /// <summary>How much of the replica one plan may delete or overwrite before it is halted: "50%" or a count; null: 50%.</summary>
        public string HaltThreshold { get; set; }

        /// <summary>Every replica file the mirror deletes or overwrites is first moved into .rtm-versions/STAMP/PATH on the replica.</summary>
        public bool KeepVersions { get; set; }
        /// <summary>How long kept versions stay ("30d", "12h", a TimeSpan); null: 30 days unless only a count is set.</summary>
        public string VersionRetention { get; set; }
        /// <summary>At most this many versions of one path are kept; null: no count limit.</summary>
        public int? VersionCount { get; set; }
        /// <summary>
        /// The source roots last mirrored to this target (set by the service and one-shot syncs): where a kept version
        /// restores to, and which replica subdirectory holds each root's versions.
        /// </summary>
        public string[] SourcePaths { get; set; }

        [Newtonsoft.Json.JsonIgnore]
        public TimeSpan IoTimeout => TimeSpan.FromSeconds(IoTimeoutSeconds > 0 ? IoTimeoutSeconds : 60);

        /// <summary>
        /// Password from -Credential: held in memory for this session only, never written to disk, and not a public
        /// property, so Format-List *, ConvertTo-Json or Export-Clixml of a target never show it.
        /// </summary>
        [Newtonsoft.Json.JsonIgnore]
        internal string Password { get; set; }

        /// <summary>Sets the session-only password (see <see cref="Password"/>).</summary>
        public void SetPassword(string password) => Password = password;

        /// <summary>The session-only password, or null.</summary>
        public string GetPassword() => Password;

        /// <summary>How the target reads in tables: user@host:port:path or the local path.</summary>
        [Newtonsoft.Json.JsonIgnore]
        public string Location => Kind == TargetKind.Local
            ? Path
            : $"{(string.IsNullOrEmpty(User) ? "" : User + "@")}{HostName}{(Port == 22 ? "" : ":" + Port)}:{RemotePath}";

        public MirrorTarget Clone()
        {
            var t = (MirrorTarget)MemberwiseClone();
            t.Exclude = Exclude == null ? null : (string[])Exclude.Clone();
            t.SourcePaths = SourcePaths == null ? null : (string[])SourcePaths.Clone();
            return t;
        }

        /// <summary>
        /// The same target with its replica root one directory deeper: when several roots mirror to one target, each
        /// goes to its own subdirectory (named after the root's last segment), so they can neither delete nor
        /// overwrite each other's files.
        /// </summary>
        public MirrorTarget ForSubdirectory(string name)
        {
            if (string.IsNullOrEmpty(name)) return this;
            var t = Clone();
            if (Kind == TargetKind.Local) t.Path = System.IO.Path.Combine(Path, name);
            else t.RemotePath = (string.IsNullOrEmpty(RemotePath) ? "." : RemotePath.TrimEnd('/')) + "/" + name;
            return t;
        }

        /// <summary>
        /// Where each root goes on a target: the replica root itself for a single root, else a subdirectory named
        /// after the root's last segment. Two roots with the same last segment are refused before anything is written.
        /// </summary>
        public static IReadOnlyDictionary<string, string> SubdirectoriesFor(IReadOnlyList<string> roots)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            if (roots.Count == 1) { map[roots[0]] = ""; return map; }
            var byName = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var root in roots)
            {
                var name = System.IO.Path.GetFileName(root.TrimEnd('/'));
                if (string.IsNullOrEmpty(name)) throw new ArgumentException($"'{root}' cannot share a target with other roots: it has no last segment to name its replica subdirectory.");
                if (byName.TryGetValue(name, out var other))
                    throw new ArgumentException($"'{other}' and '{root}' would both mirror to the replica subdirectory '{name}'. Mirror them to separate targets, or watch their common parent instead.");
                byName[name] = root;
                map[root] = name;
            }
            return map;
        }

        /// <summary>Refuses settings that could be misread on the way to the replica (see <see cref="CheckRemotePath"/>).</summary>
        public void Validate()
        {
            if (Kind == TargetKind.Ssh) CheckRemotePath(Name, RemotePath);
        }

        /// <summary>
        /// The remote root goes on the `rsync --server` command line (shell-quoted) and to SFTP. A leading '-' would be
        /// read by rsync as an option whatever the quoting, and a control character (a newline above all) has no
        /// business in a path an admin types; both are refused with the target named.
        /// </summary>
        public static void CheckRemotePath(string targetName, string remotePath)
        {
            if (string.IsNullOrEmpty(remotePath)) return;
            if (remotePath[0] == '-')
                throw new ArgumentException($"Target '{targetName}': RemotePath '{remotePath}' starts with '-', which rsync would take for an option; write './{remotePath}' instead.", nameof(RemotePath));
            foreach (var c in remotePath)
                if (char.IsControl(c))
                    throw new ArgumentException($"Target '{targetName}': RemotePath contains a control character (U+{(int)c:X4}); refused.", nameof(RemotePath));
        }
    }
}
