using System;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace RealtimeMirror
{
    /// <summary>
    /// Runs at Import-Module, before any cmdlet: points the cmdlet assembly's reference to the engine at the module's
    /// own load context (<see cref="EngineLoadContext"/>), then makes the engine's public types nameable in scripts.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        private static int _hooked;

        public void OnImport()
        {
            if (System.Threading.Interlocked.Exchange(ref _hooked, 1) == 0)
                AssemblyLoadContext.Default.Resolving += EngineLoadContext.ResolveEngine;
            RegisterTypeNames();
        }

        /// <summary>
        /// PowerShell resolves <c>[Some.Type]</c> only among default-context assemblies, so the engine's types (in our
        /// context) are registered as type accelerators under their full names: scripts keep writing
        /// <c>[RealtimeMirror.Engine.Events.MirrorEvent]</c>, <c>-is [RealtimeMirror.Engine.Results.SyncResult]</c> or
        /// <c>[RealtimeMirror.Engine.Targets.DeleteMode]::Never</c> as if the engine were loaded the ordinary way.
        /// A separate method, so that the engine is first touched after the resolver is in place.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void RegisterTypeNames()
        {
            var accelerators = typeof(PSObject).Assembly.GetType("System.Management.Automation.TypeAccelerators");
            var add = accelerators?.GetMethod("Add", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static,
                null, new[] { typeof(string), typeof(Type) }, null);
            if (add == null) return; // a PowerShell without the table: names stay unresolvable, the cmdlets still work
            foreach (var type in PublicEngineTypes.All)
            {
                try { add.Invoke(null, new object[] { type.FullName, type }); }
                catch (Exception) { /* an accelerator is a convenience; never fail the import for one */ }
            }
        }
    }
}
