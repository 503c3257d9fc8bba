using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Newtonsoft.Json;

namespace RealtimeMirror.Engine.Targets
{
    /// <summary>
    /// Per-user JSON file of targets, so a scheduled script finds the targets an admin registered interactively.
    /// Location: $REALTIMEMIRROR_CONFIG if set, else the user's config folder (~/.config or %APPDATA%)/RealtimeMirror/targets.json.
    /// Writes go to a temp file renamed over the old one, so a crash never leaves half a file.
    /// </summary>
    public sealed class TargetStore
    {
        private static readonly object FileLock = new object();

        public TargetStore(string filePath = null)
        {
            FilePath = filePath ?? DefaultPath();
        }

        public string FilePath { get; }

        public static string DefaultPath()
        {
            var overridePath = Environment.GetEnvironmentVariable("REALTIMEMIRROR_CONFIG");
            if (!string.IsNullOrEmpty(overridePath)) return overridePath;
            var baseDir = Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData); // ~/.config on Linux
            if (string.IsNullOrEmpty(baseDir))
                baseDir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return Path.Combine(baseDir, "RealtimeMirror", "targets.json");
        }

        public IReadOnlyList<MirrorTarget> Load()
        {
            lock (FileLock)
            {
                if (!File.Exists(FilePath)) return Array.Empty<MirrorTarget>();
                var text = File.ReadAllText(FilePath);
                try
                {
                    return JsonConvert.DeserializeObject<List<MirrorTarget>>(text) ?? new List<MirrorTarget>();
                }
                catch (JsonException e)
                {
                    throw new InvalidDataException($"The target file '{FilePath}' is not valid JSON: {e.Message}", e);
                }
            }
        }

        public MirrorTarget Find(string name) =>
            Load().FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));

        /// <summary>Adds or replaces (by name, case-insensitive) a target.</summary>
        public void Save(MirrorTarget target)
        {
            target.Validate();
            lock (FileLock)
            {
                var list = Load().Where(t => !string.Equals(t.Name, target.Name, StringComparison.OrdinalIgnoreCase)).ToList();
                list.Add(target);
                Write(list.OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase).ToList());
            }
        }

        public bool Remove(string name)
        {
            lock (FileLock)
            {
                var all = Load();
                var kept = all.Where(t => !string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
                if (kept.Count == all.Count) return false;
                Write(kept);
                return true;
            }
        }

        private void Write(List<MirrorTarget> targets)
        {
            var dir = Path.GetDirectoryName(FilePath);
            if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir))
            {
                // The file names hosts, users and key paths: only its owner reads it (0700 folder, 0600 file) on Unix.
                if (OperatingSystem.IsWindows()) Directory.CreateDirectory(dir);
                else Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            var temp = FilePath + ".tmp-" + Guid.NewGuid().ToString("N");
            var json = JsonConvert.SerializeObject(targets, Formatting.Indented, new Newtonsoft.Json.Converters.StringEnumConverter());
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(temp, options))
            using (var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false)))
                writer.Write(json);
            if (File.Exists(FilePath)) File.Replace(temp, FilePath, null);
            else File.Move(temp, FilePath);
        }
    }
}
