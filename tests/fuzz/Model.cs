namespace RealtimeMirror.Fuzz;

/// <summary>
/// What the generator believes is in the source tree (relative Latin-1 paths), so it can pick targets for its
/// operations without walking the tree each time. Ordered lists keep picks deterministic per seed. If an operation
/// fails anyway, the driver rebuilds the model from disk (also deterministic: sorted listings).
/// </summary>
public sealed class Model
{
    public List<string> Files { get; } = new();
    public List<string> Dirs { get; } = new();   // without the root ("")
    public List<string> Links { get; } = new();
    public List<string> Fifos { get; } = new();
    readonly HashSet<string> all = new(StringComparer.Ordinal);

    public int Count => all.Count;
    public bool Exists(string p) => all.Contains(p);

    List<string> ListOf(Kind k) => k switch { Kind.File => Files, Kind.Dir => Dirs, Kind.Symlink => Links, _ => Fifos };

    public void Add(string p, Kind k) { if (all.Add(p)) ListOf(k).Add(p); }

    public void Remove(string p)
    {
        if (!all.Remove(p)) return;
        Files.Remove(p); Dirs.Remove(p); Links.Remove(p); Fifos.Remove(p);
    }

    /// <summary>Removes a path and, if it is a directory, everything under it; returns what was removed (relative to it).</summary>
    public List<(string Suffix, Kind Kind)> RemoveTree(string p)
    {
        var gone = new List<(string, Kind)>();
        foreach (var (list, k) in new[] { (Files, Kind.File), (Dirs, Kind.Dir), (Links, Kind.Symlink), (Fifos, Kind.Fifo) })
        {
            foreach (var x in list) if (x == p || Bytes.IsUnder(x, p)) gone.Add((x[p.Length..], k));
            list.RemoveAll(x => x == p || Bytes.IsUnder(x, p));
        }
        all.RemoveWhere(x => x == p || Bytes.IsUnder(x, p));
        gone.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return gone;
    }

    public void AddTree(string p, List<(string Suffix, Kind Kind)> entries) { foreach (var (s, k) in entries) Add(p + s, k); }

    /// <summary>rename(2) in the model: 'to' (and its subtree) is replaced by 'from' (and its subtree).</summary>
    public void Rename(string from, string to)
    {
        RemoveTree(to);
        var moved = RemoveTree(from);
        AddTree(to, moved);
    }

    public Kind? KindOf(string p) =>
        !all.Contains(p) ? null : Files.Contains(p) ? Kind.File : Dirs.Contains(p) ? Kind.Dir : Links.Contains(p) ? Kind.Symlink : Kind.Fifo;

    public static Model FromDisk(string root)
    {
        var m = new Model();
        foreach (var (p, e) in Snapshot.Take(root, Array.Empty<string>()).Entries) m.Add(p, e.Kind == Kind.Other ? Kind.Fifo : e.Kind);
        return m;
    }
}
