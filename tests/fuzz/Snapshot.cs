namespace RealtimeMirror.Fuzz;

public enum Kind { File, Dir, Symlink, Fifo, Other }

public sealed record Entry(Kind Kind, int Perm, uint Uid, uint Gid, long MtimeSec, uint MtimeNsec, long Size, string Hash, string LinkTarget, ulong Ino, uint Nlink);

/// <summary>
/// Every entry under a root (the root itself excluded), keyed by its relative byte path (Latin-1 string), read with
/// lstat/readlink/opendir only: fifos are never opened for content, symlinks never followed. Names matching an
/// exclude glob are skipped with everything under them.
/// </summary>
public sealed class Snapshot
{
    public SortedDictionary<string, Entry> Entries { get; } = new(StringComparer.Ordinal);
    public string Root { get; }

    // Content hashes by (absolute path, inode, size, mtime, ctime): a write always moves ctime, so a hit is current.
    static readonly Dictionary<(string, ulong, long, long, uint, long, uint), string> HashCache = new();

    Snapshot(string root) { Root = root; }

    public static Snapshot Take(string rootLatin1, IReadOnlyList<string> excludes)
    {
        var s = new Snapshot(rootLatin1);
        s.Walk("", excludes);
        if (HashCache.Count > 200_000) HashCache.Clear();
        return s;
    }

    void Walk(string rel, IReadOnlyList<string> excludes)
    {
        var abs = rel.Length == 0 ? Root : Root + "/" + rel;
        List<byte[]> names;
        try { names = Native.ListDir(Bytes.Raw(abs)); }
        catch (NativeException e) when (e.Errno is 2 or 20) { return; } // vanished while walking (replica mid-update)
        foreach (var raw in names)
        {
            var name = Bytes.L(raw);
            if (excludes.Any(g => Bytes.Glob(g, name))) continue;
            var childRel = Bytes.Join(rel, name);
            var childAbs = abs + "/" + name;
            var st = Native.LStat(Bytes.Raw(childAbs));
            if (st is not StatInfo s) continue;
            var kind = s.IsFile ? Kind.File : s.IsDir ? Kind.Dir : s.IsLink ? Kind.Symlink : s.IsFifo ? Kind.Fifo : Kind.Other;
            string hash = "", target = "";
            try
            {
                if (kind == Kind.File)
                {
                    var key = (childAbs, s.Ino, s.Size, s.MtimeSec, s.MtimeNsec, s.CtimeSec, s.CtimeNsec);
                    if (!HashCache.TryGetValue(key, out hash))
                    {
                        hash = Convert.ToHexString(Native.HashFile(Bytes.Raw(childAbs)))[..16];
                        HashCache[key] = hash;
                    }
                }
                else if (kind == Kind.Symlink) target = Bytes.L(Native.ReadLink(Bytes.Raw(childAbs)));
            }
            catch (NativeException e) when (e.Errno is 2 or 20 or 22 or 40) { continue; }
            Entries[childRel] = new Entry(kind, s.Perm, s.Uid, s.Gid, s.MtimeSec, s.MtimeNsec, s.Size, hash, target, s.Ino, s.Nlink);
            if (kind == Kind.Dir) Walk(childRel, excludes);
        }
    }
}
