using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace RealtimeMirror
{
    /// <summary>
    /// The module's own assembly load context. The engine (RealtimeMirror.Engine.dll) and every library it uses (SSH.NET,
    /// BouncyCastle, Newtonsoft.Json, System.IO.Hashing, ZstdSharp, ...) ship in bin/deps and load here, never into
    /// the default context, so another module that brings a different SSH.NET (Posh-SSH) or Newtonsoft.Json into the
    /// same session cannot break us, and we cannot break it. Only the cmdlet assembly (bin/RealtimeMirror.dll) lives in
    /// the default context; it reaches the engine through <see cref="ResolveEngine"/>.
    /// <para>
    /// Shared-framework assemblies (System.*, Microsoft.NETCore.App) are left to the default context when the running
    /// runtime's copy is at least the version asked for, so there is one System.Runtime. The engine's P/Invoke errno
    /// (Marshal.GetLastPInvokeError) is kept intact across this context's own loading (see <see cref="Load"/>), and its
    /// DllImport("libc") is answered with the C library the process already has.
    /// </para>
    /// </summary>
    internal sealed class EngineLoadContext : AssemblyLoadContext
    {
        internal const string EngineAssemblyName = "RealtimeMirror.Engine";

        private static readonly object Gate = new object();
        private static EngineLoadContext _instance;

        private readonly Dictionary<string, string> _depsFiles;
        private readonly string _frameworkDir;
        private readonly ConcurrentDictionary<string, Version> _frameworkVersions = new ConcurrentDictionary<string, Version>(StringComparer.OrdinalIgnoreCase);

        private EngineLoadContext(string depsDir) : base("RealtimeMirror", isCollectible: false)
        {
            _frameworkDir = Path.GetDirectoryName(typeof(object).Assembly.Location);
            _depsFiles = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (Directory.Exists(depsDir))
                foreach (var file in Directory.GetFiles(depsDir, "*.dll"))
                    _depsFiles[Path.GetFileNameWithoutExtension(file)] = file;
        }

        /// <summary>bin/deps beside the cmdlet assembly.</summary>
        internal static string DepsDirectory =>
            Path.Combine(Path.GetDirectoryName(typeof(EngineLoadContext).Assembly.Location) ?? ".", "deps");

        internal static EngineLoadContext Instance
        {
            get
            {
                lock (Gate) return _instance ??= new EngineLoadContext(DepsDirectory);
            }
        }

        /// <summary>The engine, loaded (once) into this context.</summary>
        internal Assembly Engine => LoadFromAssemblyName(new AssemblyName(EngineAssemblyName));

        /// <summary>
        /// Runs whenever code in this context first names an assembly, which can happen between a P/Invoke and the
        /// read of its errno (the JIT resolving Marshal's assembly for Marshal.GetLastPInvokeError, say). File I/O here
        /// would overwrite that errno (stat of a missing file leaves ENOENT), so the names in bin/deps are listed once,
        /// and the last P/Invoke error is put back before returning: errno keeps the meaning it has in the default context.
        /// </summary>
        protected override Assembly Load(AssemblyName name)
        {
            var lastError = Marshal.GetLastPInvokeError();
            try
            {
                if (name.Name == null || !_depsFiles.TryGetValue(name.Name, out var path)) return null; // not ours: the default context (framework, pwsh) has it
                if (IsServedByFramework(name)) return null;
                return LoadFromAssemblyPath(path);
            }
            finally { Marshal.SetLastPInvokeError(lastError); }
        }

        /// <summary>
        /// The engine's DllImport("libc"), answered with the C library the process already has, instead of the runtime
        /// probing a dozen names that do not exist (runtime folders, bin/deps, libc.so, liblibc.so, ...) for it.
        /// </summary>
        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
        {
            var lastError = Marshal.GetLastPInvokeError();
            try { return LoadLibC(unmanagedDllName); }
            finally { Marshal.SetLastPInvokeError(lastError); }
        }

        private IntPtr LoadLibC(string unmanagedDllName)
        {
            if (unmanagedDllName == "libc" && OperatingSystem.IsLinux())
            {
                lock (Gate)
                {
                    if (_libc == IntPtr.Zero)
                    {
                        if (NativeLibrary.TryLoad("libc.so.6", out var handle)) _libc = handle;
                    }
                    if (_libc != IntPtr.Zero) return _libc;
                }
            }
            return base.LoadUnmanagedDll(unmanagedDllName);
        }

        private IntPtr _libc;

        /// <summary>True when the running shared framework carries this assembly at the version asked for or newer.</summary>
        private bool IsServedByFramework(AssemblyName name)
        {
            if (string.IsNullOrEmpty(_frameworkDir)) return false;
            var have = _frameworkVersions.GetOrAdd(name.Name, n =>
            {
                var candidate = Path.Combine(_frameworkDir, n + ".dll");
                if (!File.Exists(candidate)) return null;
                try { return AssemblyName.GetAssemblyName(candidate).Version; }
                catch (Exception) { return null; }
            });
            return have != null && (name.Version == null || have >= name.Version);
        }

        /// <summary>
        /// Default-context Resolving handler: the cmdlet assembly's reference to the engine is answered from this
        /// context. Nothing else is answered, so other modules' lookups are untouched.
        /// </summary>
        internal static Assembly ResolveEngine(AssemblyLoadContext context, AssemblyName name) =>
            string.Equals(name.Name, EngineAssemblyName, StringComparison.OrdinalIgnoreCase) ? Instance.Engine : null;
    }
}
