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
    public sealed class RegisterMirrorTargetCommand : TargetSettingsCmdletBase
    {
        private const string NamePattern = @"^[A-Za-z0-9][A-Za-z0-9._-]*$";

        /// <summary>A saved setting left out is MirrorTarget's default (keepalive 15 s, I/O timeout 60 s), shown here too.</summary>
        public RegisterMirrorTargetCommand()
        {
            var defaults = new MirrorTarget();
            KeepAliveSeconds = defaults.KeepAliveSeconds;
            IoTimeoutSeconds = defaults.IoTimeoutSeconds;
        }

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Local", ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Ssh", ValueFromPipelineByPropertyName = true)]
        [Parameter(Position = 0, ParameterSetName = "InputObject", ValueFromPipelineByPropertyName = true)]
        [ValidatePattern(NamePattern)]
        public string Name { get; set; }

        /// <summary>
        /// A target to register again (under -Name, or its own name with -Force): from Get-MirrorTarget, or its copy
        /// from ConvertFrom-Json or Import-Clixml. Every location and setting is copied; parameters given override.
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = "InputObject", ValueFromPipeline = true)]
        public PSObject InputObject { get; set; }

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
        [Parameter(ParameterSetName = "InputObject")]
        [Credential]
        public PSCredential Credential { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Ssh", ValueFromPipelineByPropertyName = true)]
        public string RemotePath { get; set; }

        [Parameter(ParameterSetName = "Ssh", ValueFromPipelineByPropertyName = true)]
        public string KnownHostsFile { get; set; }

        /// <summary>Trust on first use: record an unknown host key in known_hosts. A changed key is always refused.</summary>
        [Parameter(ParameterSetName = "Ssh")]
        [Parameter(ParameterSetName = "InputObject")]
        public SwitchParameter AcceptNewHostKey { get; set; }

        [Parameter(ParameterSetName = "Ssh", ValueFromPipelineByPropertyName = true)]
        public RsyncMode Rsync { get => (RsyncMode)_rsync; set => _rsync = (int)value; }
        // Int-backed: a field of an engine enum would make loading this cmdlet type load the engine before the module's
        // load context is hooked up (see EngineLoadContext); the property keeps the engine's enum for binding and Tab.
        private int _rsync = (int)RsyncMode.Auto;

        /// <summary>Save without connecting (the host is down now, or keys are not in place yet).</summary>
        [Parameter(ParameterSetName = "Ssh")]
        [Parameter(ParameterSetName = "InputObject")]
        public SwitchParameter NoConnect { get; set; }

        [Parameter]
        public SwitchParameter NoOwner { get; set; }

        /// <summary>Saved setting: the watch's settle time when the service mirrors to this target.</summary>
        [Parameter]
        [ValidateRange(0, 60000)]
        public int SettleMilliseconds { get; set; }

        /// <summary>Saved setting: the watch's maximum delay when the service mirrors to this target.</summary>
        [Parameter]
        [ValidateRange(10, 600000)]
        public int MaxDelayMilliseconds { get; set; }

        /// <summary>Saved setting: every replica file the mirror deletes or overwrites is first moved into .rtm-versions/STAMP/PATH on the replica.</summary>
        [Parameter]
        public SwitchParameter KeepVersions { get; set; }

        /// <summary>Saved setting: how long kept versions stay ('30d', '12h', '90m', '45s', '2w' or a TimeSpan); 30 days when neither this nor -VersionCount is given.</summary>
        [Parameter]
        [ValidateVersionRetention]
        public string VersionRetention { get; set; }

        /// <summary>Saved setting: at most this many versions of one path are kept (the newest).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int VersionCount { get; set; }

        /// <summary>Replace a target of the same name.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            var target = ParameterSetName == "InputObject" ? FromInputObject(InputObject) : FromParameters();
            if (target == null) return;
            if (Credential != null)
            {
                if (string.IsNullOrEmpty(target.User)) target.User = Credential.UserName;
                target.SetPassword(Credential.GetNetworkCredential().Password);
            }
            if (!string.IsNullOrEmpty(target.ExcludeFile))
            {
                try { TargetSettings.ReadExcludeFile(target.Name, target.ExcludeFile); }
                catch (ExcludeFileUnreadableException e)
                {
                    WriteError(TargetErrors.For(target.Name, "", e));
                    return;
                }
            }
            if (target.Kind == TargetKind.Ssh && target.KeyFile != null && !File.Exists(target.KeyFile))
            {
                WriteError(new ErrorRecord(new FileNotFoundException($"Target '{target.Name}': key file '{target.KeyFile}' does not exist.", target.KeyFile),
                    ErrorIds.KeyFileNotFound, ErrorCategory.ObjectNotFound, target.Name));
                return;
            }

            MirrorTarget existing;
            try { existing = Store.Find(target.Name); }
            catch (Exception e) { WriteStoreUnreadable(e); return; }
            if (existing != null && !Force)
            {
                WriteError(new ErrorRecord(new InvalidOperationException($"A target named '{target.Name}' exists already ({existing.Location}). Use -Force to replace it."),
                    ErrorIds.TargetExists, ErrorCategory.ResourceExists, target.Name));
                return;
            }
            target.SourcePaths = existing?.SourcePaths; // learned by the syncs, not a setting: a replaced target keeps it
            if (!ShouldProcess($"{target.Name} -> {target.Location}", existing != null ? "Replace mirror target" : "Register mirror target")) return;

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

        /// <summary>The target the parameters describe (the Local and Ssh parameter sets).</summary>
        private MirrorTarget FromParameters()
        {
            var target = new MirrorTarget
            {
                Name = Name,
                PreserveOwner = !NoOwner,
                Exclude = Exclude is { Length: > 0 } ? Exclude : null,
                // A retention or a count alone means versions are wanted.
                KeepVersions = KeepVersions || !string.IsNullOrWhiteSpace(VersionRetention) || Bound(nameof(VersionCount)),
                VersionRetention = string.IsNullOrWhiteSpace(VersionRetention) ? null : VersionRetention.Trim(),
                VersionCount = Bound(nameof(VersionCount)) ? VersionCount : (int?)null,
                ExcludeFile = string.IsNullOrEmpty(ExcludeFile) ? null : GetUnresolvedProviderPathFromPSPath(ExcludeFile),
                // Unset settings stay null in the file, so the command's own defaults keep applying to them.
                DeleteMode = BoundDeleteMode,
                SettleMilliseconds = Bound(nameof(SettleMilliseconds)) ? SettleMilliseconds : (int?)null,
                MaxDelayMilliseconds = Bound(nameof(MaxDelayMilliseconds)) ? MaxDelayMilliseconds : (int?)null,
            };
            OverrideTransferSettings(target);
            if (ParameterSetName == "Local")
            {
                target.Kind = TargetKind.Local;
                target.Path = GetUnresolvedProviderPathFromPSPath(Path);
            }
            else
            {
                target.Kind = TargetKind.Ssh;
                target.HostName = HostName;
                target.User = string.IsNullOrEmpty(User) ? null : User;
                target.Port = Port;
                target.KeyFile = string.IsNullOrEmpty(KeyFile) ? null : GetUnresolvedProviderPathFromPSPath(KeyFile);
                target.RemotePath = RemotePath;
                target.KnownHostsFile = string.IsNullOrEmpty(KnownHostsFile) ? null : GetUnresolvedProviderPathFromPSPath(KnownHostsFile);
                target.Rsync = Rsync;
            }
            return target;
        }

        /// <summary>
        /// A copy of a target given as an object: a live one from Get-MirrorTarget, or its copy back from
        /// ConvertFrom-Json or Import-Clixml (enums then arrive as names or numbers). Every location and setting is taken
        /// from it; -Name and any setting given on the command line override. Its registration time is not: this is a
        /// new registration. A password never travels on the object: give -Credential again.
        /// </summary>
        private MirrorTarget FromInputObject(PSObject o)
        {
            if (o?.BaseObject is MirrorTarget live)
            {
                var copy = live.Clone();
                copy.RegisteredUtc = DateTime.UtcNow;
                return Override(copy);
            }
            var target = new MirrorTarget();
            var kind = Read<TargetKind?>(o, "Kind");
            target.Kind = kind ?? (string.IsNullOrEmpty(Read<string>(o, "HostName")) ? TargetKind.Local : TargetKind.Ssh);
            if (target.Kind == TargetKind.Local)
            {
                target.Path = Read<string>(o, "Path");
                if (string.IsNullOrEmpty(target.Path)) return BadInput(o, "a local target without a Path");
            }
            else
            {
                target.HostName = Read<string>(o, "HostName");
                target.RemotePath = Read<string>(o, "RemotePath");
                if (string.IsNullOrEmpty(target.HostName) || target.RemotePath == null) return BadInput(o, "an SSH target without a HostName and RemotePath");
                target.User = Read<string>(o, "User");
                target.Port = Read<int?>(o, "Port") ?? 22;
                target.KeyFile = Read<string>(o, "KeyFile");
                target.KnownHostsFile = Read<string>(o, "KnownHostsFile");
                target.Rsync = Read<RsyncMode?>(o, "Rsync") ?? RsyncMode.Auto;
            }
            target.PreserveOwner = Read<bool?>(o, "PreserveOwner") ?? true;
            target.KeepAliveSeconds = Read<int?>(o, "KeepAliveSeconds") ?? target.KeepAliveSeconds;
            target.IoTimeoutSeconds = Read<int?>(o, "IoTimeoutSeconds") ?? target.IoTimeoutSeconds;
            target.Compress = Read<bool?>(o, "Compress") ?? false;
            target.BandwidthLimit = Read<int?>(o, "BandwidthLimit") ?? 0;
            target.HaltThreshold = Read<string>(o, "HaltThreshold");
            var exclude = Read<string[]>(o, "Exclude");
            target.Exclude = exclude is { Length: > 0 } ? exclude : null;
            target.ExcludeFile = Read<string>(o, "ExcludeFile");
            target.DeleteMode = Read<DeleteMode?>(o, "DeleteMode");
            target.SettleMilliseconds = Read<int?>(o, "SettleMilliseconds");
            target.MaxDelayMilliseconds = Read<int?>(o, "MaxDelayMilliseconds");
            target.KeepVersions = Read<bool?>(o, "KeepVersions") ?? false;
            target.VersionRetention = Read<string>(o, "VersionRetention");
            target.VersionCount = Read<int?>(o, "VersionCount");
            target.Name = Read<string>(o, "Name");
            return Override(target);
        }

        /// <summary>What the command line says wins over the piped object.</summary>
        private MirrorTarget Override(MirrorTarget t)
        {
            if (Bound(nameof(Name)) || string.IsNullOrEmpty(t.Name)) t.Name = Name;
            if (Bound(nameof(NoOwner))) t.PreserveOwner = !NoOwner;
            OverrideTransferSettings(t);
            if (Bound(nameof(Exclude))) t.Exclude = Exclude is { Length: > 0 } ? Exclude : null;
            if (Bound(nameof(ExcludeFile))) t.ExcludeFile = string.IsNullOrEmpty(ExcludeFile) ? null : GetUnresolvedProviderPathFromPSPath(ExcludeFile);
            if (Bound(nameof(DeleteMode))) t.DeleteMode = BoundDeleteMode;
            if (Bound(nameof(SettleMilliseconds))) t.SettleMilliseconds = SettleMilliseconds;
            if (Bound(nameof(MaxDelayMilliseconds))) t.MaxDelayMilliseconds = MaxDelayMilliseconds;
            if (Bound(nameof(KeepVersions))) t.KeepVersions = KeepVersions;
            if (Bound(nameof(VersionRetention))) { t.VersionRetention = string.IsNullOrWhiteSpace(VersionRetention) ? null : VersionRetention.Trim(); t.KeepVersions |= t.VersionRetention != null; }
            if (Bound(nameof(VersionCount))) { t.VersionCount = VersionCount; t.KeepVersions = true; }
            if (string.IsNullOrEmpty(t.Name) || !System.Text.RegularExpressions.Regex.IsMatch(t.Name, NamePattern))
                return BadInput(InputObject, $"the name '{t.Name}' (letters, digits, '.', '_' and '-', starting with a letter or digit)");
            return t;
        }

        private static T Read<T>(PSObject o, string property)
        {
            var value = o?.Properties[property]?.Value;
            if (value is PSObject p) value = p.BaseObject;
            if (value == null || (value is string s && s.Length == 0 && typeof(T) != typeof(string))) return default;
            return LanguagePrimitives.TryConvertTo(value, typeof(T), out var converted) ? (T)converted : default;
        }

        private MirrorTarget BadInput(PSObject o, string what)
        {
            WriteError(new ErrorRecord(new ArgumentException($"The piped object is not a mirror target: {what}."),
                ErrorIds.InvalidTargetObject, ErrorCategory.InvalidArgument, o));
            return null;
        }
    }
}
