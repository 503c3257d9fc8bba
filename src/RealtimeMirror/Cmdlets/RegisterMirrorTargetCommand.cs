using System;
using System.IO;
using System.Management.Automation;
using System.Net;
using RealtimeMirror.Engine.Targets;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Cmdlets
{
    /// <summary>Registers (or with -Force replaces) a named replica, local or over SSH, in the per-user target file.</summary>
    [Cmdlet(VerbsLifecycle.Register, "MirrorTarget", SupportsShouldProcess = true, DefaultParameterSetName = "Ssh")]
    [OutputType(typeof(MirrorTarget))]
    public sealed class RegisterMirrorTargetCommand : MirrorCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidatePattern(@"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
        public string Name { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Local", ValueFromPipelineByPropertyName = true)]
        public string Path { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Ssh", ValueFromPipelineByPropertyName = true)]
        [Alias("ComputerName", "Host")]
        public string HostName { get; set; }

        [Parameter(ParameterSetName = "Ssh", ValueFromPipelineByPropertyName = true)]
        public string User { get; set; }

        [Parameter(ParameterSetName = "Ssh", ValueFromPipelineByPropertyName = true)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; } = 22;

        [Parameter(ParameterSetName = "Ssh", ValueFromPipelineByPropertyName = true)]
        public string KeyFile { get; set; }

        [Parameter(ParameterSetName = "Ssh")]
        [Credential]
        public PSCredential Credential { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Ssh", ValueFromPipelineByPropertyName = true)]
        public string RemotePath { get; set; }

        [Parameter(ParameterSetName = "Ssh", ValueFromPipelineByPropertyName = true)]
        public string KnownHostsFile { get; set; }

        /// <summary>Trust on first use: record an unknown host key in known_hosts. A changed key is always refused.</summary>
        [Parameter(ParameterSetName = "Ssh")]
        public SwitchParameter AcceptNewHostKey { get; set; }

        [Parameter(ParameterSetName = "Ssh", ValueFromPipelineByPropertyName = true)]
        public RsyncMode Rsync { get => (RsyncMode)_rsync; set => _rsync = (int)value; }
        // Int-backed: a field of an engine enum would make loading this cmdlet type load the engine before the module's
        // load context is hooked up (see EngineLoadContext); the property keeps the engine's enum for binding and Tab.
        private int _rsync = (int)RsyncMode.Auto;

        /// <summary>Save without connecting (the host is down now, or keys are not in place yet).</summary>
        [Parameter(ParameterSetName = "Ssh")]
        public SwitchParameter NoConnect { get; set; }

        [Parameter]
        public SwitchParameter NoOwner { get; set; }

        /// <summary>Saved setting: compress file data on the wire where the host's rsync carries it (like rsync -z).</summary>
        [Parameter]
        public SwitchParameter Compress { get; set; }

        /// <summary>Saved setting: KiB/s the mirror may use toward this target, over rsync and SFTP (like rsync --bwlimit); 0 = no limit.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int BandwidthLimit { get; set; }

        /// <summary>Saved setting: SSH keepalive interval (0 = off).</summary>
        [Parameter]
        [ValidateRange(0, 3600)]
        public int KeepAliveSeconds { get; set; } = 15;

        /// <summary>Saved setting: how long a connect, SFTP request or rsync channel may make no progress before the connection counts as lost.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int IoTimeoutSeconds { get; set; } = 60;

        /// <summary>Saved setting: globs never mirrored to (nor deleted from) this target, added to the command line's.</summary>
        [Parameter]
        [SupportsWildcards]
        public string[] Exclude { get; set; }

        /// <summary>Saved setting: a file of globs, one a line, '#' comments; read whenever a sync or the service starts.</summary>
        [Parameter]
        public string ExcludeFile { get; set; }

        /// <summary>Saved setting: when extraneous replica entries are deleted (Always, Never, Startup, Running).</summary>
        [Parameter]
        public DeleteMode DeleteMode { get => (DeleteMode)_deleteMode; set => _deleteMode = (int)value; }
        private int _deleteMode;

        /// <summary>Saved setting: the watch's settle time when the service mirrors to this target.</summary>
        [Parameter]
        [ValidateRange(0, 60000)]
        public int SettleMilliseconds { get; set; }

        /// <summary>Saved setting: the watch's maximum delay when the service mirrors to this target.</summary>
        [Parameter]
        [ValidateRange(10, 600000)]
        public int MaxDelayMilliseconds { get; set; }

        /// <summary>Saved setting: how much of the replica one plan may delete or overwrite before the target halts ('50%' by default, or a count).</summary>
        [Parameter]
        [ValidateHaltThreshold]
        public string HaltThreshold { get; set; }

        /// <summary>Replace a target of the same name.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            var target = new MirrorTarget
            {
                Name = Name,
                PreserveOwner = !NoOwner,
                KeepAliveSeconds = KeepAliveSeconds,
                IoTimeoutSeconds = IoTimeoutSeconds,
                Compress = Compress,
                BandwidthLimit = BandwidthLimit,
                HaltThreshold = string.IsNullOrWhiteSpace(HaltThreshold) ? null : HaltThreshold.Trim(),
                Exclude = Exclude is { Length: > 0 } ? Exclude : null,
                // Unset settings stay null in the file, so the command's own defaults keep applying to them.
                DeleteMode = MyInvocation.BoundParameters.ContainsKey(nameof(DeleteMode)) ? DeleteMode : (DeleteMode?)null,
                SettleMilliseconds = MyInvocation.BoundParameters.ContainsKey(nameof(SettleMilliseconds)) ? SettleMilliseconds : (int?)null,
                MaxDelayMilliseconds = MyInvocation.BoundParameters.ContainsKey(nameof(MaxDelayMilliseconds)) ? MaxDelayMilliseconds : (int?)null,
            };
            if (!string.IsNullOrEmpty(ExcludeFile))
            {
                target.ExcludeFile = GetUnresolvedProviderPathFromPSPath(ExcludeFile);
                try { TargetSettings.ReadExcludeFile(Name, target.ExcludeFile); }
                catch (IOException e)
                {
                    WriteError(new ErrorRecord(e, "ExcludeFileUnreadable", ErrorCategory.ReadError, target.ExcludeFile));
                    return;
                }
            }
            if (ParameterSetName == "Local")
            {
                target.Kind = TargetKind.Local;
                target.Path = GetUnresolvedProviderPathFromPSPath(Path);
            }
            else
            {
                target.Kind = TargetKind.Ssh;
                target.HostName = HostName;
                target.User = string.IsNullOrEmpty(User) ? Credential?.UserName : User;
                target.Port = Port;
                target.KeyFile = string.IsNullOrEmpty(KeyFile) ? null : GetUnresolvedProviderPathFromPSPath(KeyFile);
                target.RemotePath = RemotePath;
                target.KnownHostsFile = string.IsNullOrEmpty(KnownHostsFile) ? null : GetUnresolvedProviderPathFromPSPath(KnownHostsFile);
                target.Rsync = Rsync;
                if (target.KeyFile != null && !File.Exists(target.KeyFile))
                {
                    WriteError(new ErrorRecord(new FileNotFoundException($"Key file '{target.KeyFile}' does not exist.", target.KeyFile),
                        "KeyFileNotFound", ErrorCategory.ObjectNotFound, target.KeyFile));
                    return;
                }
                if (Credential != null) target.SetPassword(Credential.GetNetworkCredential().Password);
            }

            MirrorTarget existing;
            try { existing = Store.Find(Name); }
            catch (Exception e) { WriteStoreUnreadable(e); return; }
            if (existing != null && !Force)
            {
                WriteError(new ErrorRecord(new InvalidOperationException($"A target named '{Name}' exists already ({existing.Location}). Use -Force to replace it."),
                    "TargetExists", ErrorCategory.ResourceExists, Name));
                return;
            }
            if (!ShouldProcess($"{Name} -> {target.Location}", existing != null ? "Replace mirror target" : "Register mirror target")) return;

            if (target.Kind == TargetKind.Ssh && !NoConnect)
            {
                // Connecting now proves login and host key (recording it on first use), so the scheduled job later does not find out.
                try
                {
                    using (ReplicaFactory.Open(target, AcceptNewHostKey, StopToken)) { }
                }
                catch (TargetUnavailableException e)
                {
                    WriteTargetUnavailable(e, target);
                    return;
                }
            }
            Store.Save(target);
            if (target.GetPassword() != null) SessionCredentials.Remember(target.Name, target.GetPassword());
            WriteObject(target);
        }
    }
}
