namespace RealtimeMirror.Fuzz;

public enum DirTimes { Skip, Seconds }

/// <summary>What a transport can carry, so the comparison is exact for what it should carry and silent about the rest.</summary>
public sealed record TargetProfile(string Name, string Kind, bool Nanoseconds, bool SymlinkTimes, bool SymlinkOwner,
    bool Specials = true, bool Unsigned32Times = false)
{
    public static TargetProfile For(string kind, string name) => kind switch
    {
        "local" => new(name, kind, Nanoseconds: true, SymlinkTimes: true, SymlinkOwner: true),
        // rsync protocol 27 carries whole-second mtimes as unsigned 32-bit values (1970-2106); symlink times are set
        // when the receiver has lutimes.
        "rsync" => new(name, kind, Nanoseconds: false, SymlinkTimes: true, SymlinkOwner: true, Unsigned32Times: true),
        // SFTP v3: whole seconds as unsigned 32-bit values, no lutimes, no lchown, no mknod (README: known limits):
        // fifos and devices are skipped with a warning there.
        "sftp" => new(name, kind, Nanoseconds: false, SymlinkTimes: false, SymlinkOwner: false, Specials: false, Unsigned32Times: true),
        _ => throw new ArgumentException($"unknown target kind '{kind}' (local, rsync, sftp)"),
    };
}

/// <summary>Exact comparison of a source snapshot with a replica snapshot under a target profile.</summary>
public static class Comparer
{
    public static List<string> Compare(Snapshot src, Snapshot rep, TargetProfile p, DirTimes dirTimes)
    {
        var diffs = new List<string>();
        foreach (var (path, a) in src.Entries)
        {
            if (!p.Specials && (a.Kind == Kind.Fifo || a.Kind == Kind.Other) && !rep.Entries.ContainsKey(path)) continue; // left out on purpose, with a warning
            if (!rep.Entries.TryGetValue(path, out var b)) { diffs.Add($"missing on replica: {Bytes.Show(path)} ({Describe(a)})"); continue; }
            var what = new List<string>();
            if (a.Kind != b.Kind) { diffs.Add($"kind differs: {Bytes.Show(path)} source {Describe(a)}, replica {Describe(b)}"); continue; }
            if (a.Kind == Kind.File && (a.Size != b.Size || a.Hash != b.Hash)) what.Add($"content size {a.Size}/{b.Size} sha256 {a.Hash}/{b.Hash}");
            if (a.Kind == Kind.Symlink && a.LinkTarget != b.LinkTarget) what.Add($"link target {Bytes.Show(a.LinkTarget)}/{Bytes.Show(b.LinkTarget)}");
            if (a.Kind != Kind.Symlink && a.Perm != b.Perm) what.Add($"mode {Convert.ToString(a.Perm, 8).PadLeft(4, '0')}/{Convert.ToString(b.Perm, 8).PadLeft(4, '0')}");
            if ((a.Kind != Kind.Symlink || p.SymlinkOwner) && (a.Uid != b.Uid || a.Gid != b.Gid)) what.Add($"owner {a.Uid}:{a.Gid}/{b.Uid}:{b.Gid}");
            var timed = a.Kind switch { Kind.Dir => dirTimes == DirTimes.Seconds, Kind.Symlink => p.SymlinkTimes, _ => true };
            if (p.Unsigned32Times && (a.MtimeSec < 0 || a.MtimeSec > uint.MaxValue)) timed = false; // the wire cannot carry it
            if (timed)
            {
                var ns = p.Nanoseconds && a.Kind != Kind.Dir;
                if (a.MtimeSec != b.MtimeSec) what.Add($"mtime {Time(a, ns)}/{Time(b, ns)}");
                else if (ns && a.MtimeNsec != b.MtimeNsec) what.Add($"mtime(ns) {Time(a, ns)}/{Time(b, ns)}");
            }
            if (what.Count > 0) diffs.Add($"differs: {Bytes.Show(path)} ({a.Kind}) source/replica: {string.Join("; ", what)}");
        }
        foreach (var (path, b) in rep.Entries)
            if (!src.Entries.ContainsKey(path)) diffs.Add($"extra on replica: {Bytes.Show(path)} ({Describe(b)})");
        return diffs;
    }

    /// <summary>Short class names of a difference list, for one-line summaries: "content:2,mtime(ns):5".</summary>
    public static string Categories(IEnumerable<string> diffs)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var d in diffs)
        {
            var cats = d.StartsWith("missing") ? new[] { "missing" } : d.StartsWith("extra") ? new[] { "extra" } : d.StartsWith("kind") ? new[] { "kind" }
                : new[] { "content", "link target", "mode", "owner", "mtime(ns)", "mtime " }.Where(k => d.Contains("; " + k) || d.Contains(": " + k)).Select(k => k.Trim()).ToArray();
            foreach (var k in cats) counts[k] = counts.GetValueOrDefault(k) + 1;
        }
        return string.Join(",", counts.Select(kv => $"{kv.Key.Replace(' ', '-')}:{kv.Value}"));
    }

    static string Describe(Entry e) => e.Kind switch
    {
        Kind.File => $"file {e.Size} B",
        Kind.Symlink => $"symlink -> {Bytes.Show(e.LinkTarget)}",
        _ => e.Kind.ToString().ToLowerInvariant(),
    };

    static string Time(Entry e, bool ns)
    {
        var t = DateTimeOffset.FromUnixTimeSeconds(e.MtimeSec).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss");
        return ns ? $"{t}.{e.MtimeNsec:D9}" : t;
    }

    /// <summary>True when the two snapshots of an area outside the replicas (a sentinel) are identical in every field.</summary>
    public static List<string> CompareExact(Snapshot before, Snapshot after)
    {
        var diffs = new List<string>();
        foreach (var (path, a) in before.Entries)
            if (!after.Entries.TryGetValue(path, out var b)) diffs.Add($"removed: {Bytes.Show(path)}");
            else if (a with { Nlink = 0 } != b with { Nlink = 0 }) diffs.Add($"changed: {Bytes.Show(path)}");
        foreach (var path in after.Entries.Keys)
            if (!before.Entries.ContainsKey(path)) diffs.Add($"added: {Bytes.Show(path)}");
        return diffs;
    }
}
