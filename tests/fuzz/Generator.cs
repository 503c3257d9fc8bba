namespace RealtimeMirror.Fuzz;

/// <summary>
/// Seeded churn on a source tree. Each call to Step does one operation of one class and returns a readable line for the
/// op log (the same seed and options give the same lines, so a failing seed can be replayed and read). All filesystem
/// work goes through Native with raw byte paths.
/// </summary>
public sealed class Generator
{
    public static readonly string[] Classes =
    {
        "create", "append", "rewrite-same-second", "truncate", "chmod", "chown", "touch", "mkdir", "rmdir-recreate",
        "rename-over", "rename-chain", "dir-rename", "swap", "file-dir-swap", "file-symlink-swap", "symlink", "hardlink",
        "move-out-in", "unpack", "editor-save", "non-utf8", "long-name", "fifo", "delete",
        // An attack from the backup host's side, not a source edit: only with --only (it has no weight below, so the
        // mixed stream of every existing seed stays as it was).
        "replica-hardlink",
        // A same-size rewrite (mtime restored) and at once a rename of its directory; also only with --only.
        "rewrite-dir-rename",
    };

    // Relative weights in the mixed stream (no --only): everyday edits dominate, heavy ops are rare.
    static readonly Dictionary<string, int> Weights = new()
    {
        ["create"] = 14, ["append"] = 8, ["rewrite-same-second"] = 4, ["truncate"] = 3, ["chmod"] = 4, ["chown"] = 3, ["touch"] = 4,
        ["mkdir"] = 4, ["rmdir-recreate"] = 2, ["rename-over"] = 4, ["rename-chain"] = 2, ["dir-rename"] = 3, ["swap"] = 2,
        ["file-dir-swap"] = 2, ["file-symlink-swap"] = 2, ["symlink"] = 3, ["hardlink"] = 2, ["move-out-in"] = 2, ["unpack"] = 1,
        ["editor-save"] = 3, ["non-utf8"] = 2, ["long-name"] = 1, ["fifo"] = 1, ["delete"] = 8,
    };

    static readonly uint[] Ids = { 0, 1, 1000, 1001, 65534, 12345, 2147483647, 2147483648, 3000000000, 4294967294 };
    static readonly uint[] FileModes = { Mode.Oc(644), Mode.Oc(600), Mode.Oc(755), Mode.Oc(700), Mode.Oc(444), Mode.Oc(640), Mode.Oc(4755), Mode.Oc(2755), Mode.Oc(6755), Mode.Oc(664) };
    static readonly uint[] DirModes = { Mode.Oc(755), Mode.Oc(700), Mode.Oc(775), Mode.Oc(555), Mode.Oc(1777), Mode.Oc(2775), Mode.Oc(711) };

    readonly Random rng;
    readonly string root;     // absolute, ASCII
    readonly string scratch;  // absolute, beside root: subtrees moved out of the tree wait here
    readonly List<(string Name, List<(string Suffix, Kind Kind)> Tree)> stash = new();
    public Model Model { get; private set; }
    int counter;

    public Generator(int seed, string root, string scratch)
    {
        rng = new Random(seed);
        this.root = root;
        this.scratch = scratch;
        Model = Model.FromDisk(root);
    }

    public string PickClass(string only)
    {
        if (only != null) return only;
        // Keep the tree from growing without bound over long runs: delete more when it is big.
        var total = Weights.Values.Sum();
        var x = rng.Next(total + (Model.Count > 3000 ? 60 : 0));
        if (x >= total) return "delete";
        foreach (var (k, w) in Weights) { if (x < w) return k; x -= w; }
        return "create";
    }

    /// <summary>Runs one op; throws NativeException if the filesystem disagreed (the driver then resyncs the model).</summary>
    public string Step(string cls) => cls switch
    {
        "create" => Create(),
        "append" => Append(),
        "rewrite-same-second" => RewriteSameSecond(),
        "truncate" => TruncateOp(),
        "chmod" => ChmodOp(),
        "chown" => ChownOp(),
        "touch" => Touch(),
        "mkdir" => MkdirOp(),
        "rmdir-recreate" => RmdirRecreate(),
        "rename-over" => RenameOver(),
        "rename-chain" => RenameChain(),
        "dir-rename" => DirRename(),
        "swap" => Swap(),
        "file-dir-swap" => FileDirSwap(),
        "file-symlink-swap" => FileSymlinkSwap(),
        "symlink" => SymlinkOp(),
        "hardlink" => Hardlink(),
        "move-out-in" => MoveOutIn(),
        "unpack" => Unpack(),
        "editor-save" => EditorSave(),
        "non-utf8" => NonUtf8(),
        "long-name" => LongName(),
        "fifo" => Fifo(),
        "delete" => Delete(),
        "replica-hardlink" => ReplicaHardlink(),
        "rewrite-dir-rename" => RewriteThenDirRename(),
        _ => throw new ArgumentException($"unknown op class '{cls}'; one of: {string.Join(", ", Classes)}"),
    };

    public void ResyncModel() => Model = Model.FromDisk(root);

    // ---- helpers ----------------------------------------------------------------------------------------------
    byte[] A(string rel) => Bytes.Raw(rel.Length == 0 ? root : root + "/" + rel);
    static string S(string rel) => Bytes.Show(rel);
    static string Oct(uint m) => Convert.ToString(m, 8).PadLeft(4, '0');

    string Fresh(string prefix) => $"{prefix}{++counter}";
    string AnyDir() { var i = rng.Next(Model.Dirs.Count + 1); return i == 0 ? "" : Model.Dirs[i - 1]; }
    string NewPath(string prefix, string suffix = "") => Bytes.Join(AnyDir(), Fresh(prefix) + suffix);
    T Pick<T>(List<T> list) => list[rng.Next(list.Count)];

    byte[] Content(int size) { var b = new byte[size]; rng.NextBytes(b); return b; }
    int RandomSize() { var r = rng.Next(100); return r < 5 ? 1 << 20 : r < 10 ? 0 : rng.Next(0, 64 * 1024 + 1); }

    string WriteNew(string rel, int size, uint mode = 0x1A4 /* 0644 */)
    {
        Native.WriteFile(A(rel), Content(size));
        Native.Chmod(A(rel), mode);
        Model.Add(rel, Kind.File);
        return $"{S(rel)} size={size} mode={Oct(mode)}";
    }

    /// <summary>An existing regular file, or a new one (when the tree has none, or for --only runs that need one).</summary>
    string AnyFile(out string note)
    {
        note = "";
        if (Model.Files.Count > 0 && rng.Next(10) > 0) return Pick(Model.Files);
        var p = NewPath("f", ".txt");
        note = $" (new: {WriteNew(p, rng.Next(1, 4096))})";
        return p;
    }

    string AnyDirNotRoot(out string note)
    {
        note = "";
        if (Model.Dirs.Count > 0 && rng.Next(8) > 0) return Pick(Model.Dirs);
        var d = NewPath("d");
        Native.Mkdir(A(d));
        Model.Add(d, Kind.Dir);
        var f = Bytes.Join(d, Fresh("c") + ".txt");
        note = $" (new dir {S(d)} with {WriteNew(f, rng.Next(1, 2048))})";
        return d;
    }

    /// <summary>A directory to destroy: while the tree is small, the one with the fewest descendants of 4 picks, so that
    /// long runs keep a tree of a useful size instead of deleting everything under the first directories.</summary>
    string DirToDestroy()
    {
        if (Model.Count > 3000) return Pick(Model.Dirs);
        string best = null; var bestCount = int.MaxValue;
        for (var i = 0; i < 4; i++)
        {
            var d = Pick(Model.Dirs);
            var n = Model.Files.Count(f => Bytes.IsUnder(f, d)) + Model.Dirs.Count(x => Bytes.IsUnder(x, d));
            if (n < bestCount) { best = d; bestCount = n; }
        }
        return best;
    }

    void RemoveTreeOnDisk(string rel)
    {
        var raw = A(rel);
        var st = Native.LStat(raw);
        if (st is not StatInfo s) return;
        if (!s.IsDir) { Native.Unlink(raw); return; }
        foreach (var n in Native.ListDir(raw)) RemoveTreeOnDisk(Bytes.Join(rel, Bytes.L(n)));
        Native.Rmdir(raw);
    }

    // ---- operations ----------------------------------------------------------------------------------------------
    string Create()
    {
        var modes = new uint[] { Mode.Oc(644), Mode.Oc(644), Mode.Oc(600), Mode.Oc(755) };
        return "create " + WriteNew(NewPath("f", ".dat"), RandomSize(), modes[rng.Next(modes.Length)]);
    }

    string Append()
    {
        var f = AnyFile(out var note);
        var n = rng.Next(1, 4097);
        Native.WriteFile(A(f), Content(n), append: true);
        return $"append {S(f)} +{n} B{note}";
    }

    string RewriteSameSecond()
    {
        var f = AnyFile(out var note);
        Native.WriteFile(A(f), "enabled=yes\n"u8);
        var st = Native.LStat(A(f)).Value;
        var pause = rng.Next(0, 151); // long enough, often, for the mirror to copy the first version
        Thread.Sleep(pause);
        Native.WriteFile(A(f), "enabled=no!\n"u8);
        var exact = rng.Next(2) == 0;
        var ns = exact ? st.MtimeNsec : (uint)rng.Next(0, 1_000_000_000);
        Native.SetTimes(A(f), st.MtimeSec, ns);
        return $"rewrite-same-second {S(f)} \"enabled=yes\" -(sleep {pause} ms)-> \"enabled=no!\" mtime restored to {st.MtimeSec}.{ns:D9} ({(exact ? "exact" : "same second")}){note}";
    }

    string TruncateOp()
    {
        var f = AnyFile(out var note);
        var size = Native.LStat(A(f)).Value.Size;
        var len = rng.Next(3) == 0 ? 0 : rng.NextInt64(0, size + 1);
        Native.Truncate(A(f), len);
        return $"truncate {S(f)} {size} -> {len}{note}";
    }

    string ChmodOp()
    {
        string p, note = "";
        uint mode;
        if (rng.Next(4) == 0) { p = AnyDirNotRoot(out note); mode = DirModes[rng.Next(DirModes.Length)]; }
        else { p = AnyFile(out note); mode = FileModes[rng.Next(FileModes.Length)]; }
        Native.Chmod(A(p), mode);
        return $"chmod {Oct(mode)} {S(p)}{note}";
    }

    string ChownOp()
    {
        string p, note = "";
        var r = rng.Next(6);
        if (r == 0) p = AnyDirNotRoot(out note);
        else if (r == 1 && Model.Links.Count > 0) p = Pick(Model.Links);
        else p = AnyFile(out note);
        uint uid = Ids[rng.Next(Ids.Length)], gid = Ids[rng.Next(Ids.Length)];
        Native.Lchown(A(p), uid, gid);
        // chown clears set-id bits; sometimes put them back afterwards (chown then chmod, as an admin would).
        var extra = "";
        if (Model.KindOf(p) == Kind.File && rng.Next(3) == 0) { Native.Chmod(A(p), Mode.Oc(4755)); extra = " then chmod 4755"; }
        return $"chown {uid}:{gid} {S(p)}{extra}{note}";
    }

    string Touch()
    {
        string p, note = "";
        var r = rng.Next(8);
        if (r == 0) p = AnyDirNotRoot(out note);
        else if (r == 1 && Model.Links.Count > 0) p = Pick(Model.Links);
        else p = AnyFile(out note);
        long sec;
        switch (rng.Next(6))
        {
            case 0: sec = new DateTimeOffset(1965, 1 + rng.Next(12), 1 + rng.Next(28), rng.Next(24), rng.Next(60), rng.Next(60), TimeSpan.Zero).ToUnixTimeSeconds(); break;
            case 1: sec = new DateTimeOffset(2040, 1 + rng.Next(12), 1 + rng.Next(28), rng.Next(24), rng.Next(60), rng.Next(60), TimeSpan.Zero).ToUnixTimeSeconds(); break;
            case 2: sec = 0; break;
            default: sec = rng.NextInt64(0, 2_000_000_000); break;
        }
        var ns = rng.Next(3) == 0 ? 0 : rng.Next(0, 1_000_000_000);
        Native.SetTimes(A(p), sec, ns);
        return $"touch -d {DateTimeOffset.FromUnixTimeSeconds(sec).UtcDateTime:yyyy-MM-ddTHH:mm:ss}.{ns:D9}Z {S(p)}{note}";
    }

    string MkdirOp()
    {
        var d = NewPath("d");
        var mode = rng.Next(4) == 0 ? DirModes[rng.Next(DirModes.Length)] : Mode.Oc(755);
        Native.Mkdir(A(d));
        Native.Chmod(A(d), mode);
        Model.Add(d, Kind.Dir);
        var n = rng.Next(0, 4);
        for (var i = 0; i < n; i++) WriteNew(Bytes.Join(d, Fresh("f") + ".txt"), rng.Next(0, 8192));
        return $"mkdir {S(d)} mode={Oct(mode)} with {n} files";
    }

    string RmdirRecreate()
    {
        var note = "";
        var d = Model.Dirs.Count > 0 && rng.Next(8) > 0 ? DirToDestroy() : AnyDirNotRoot(out note);
        RemoveTreeOnDisk(d);
        Model.RemoveTree(d);
        Native.Mkdir(A(d));
        Model.Add(d, Kind.Dir);
        var n = rng.Next(1, 6);
        for (var i = 0; i < n; i++) WriteNew(Bytes.Join(d, Fresh("n") + ".txt"), rng.Next(0, 8192));
        return $"rm -rf {S(d)} && mkdir {S(d)} with {n} new files{note}";
    }

    bool SameInode(string a, string b) => Native.LStat(A(a)) is StatInfo x && Native.LStat(A(b)) is StatInfo y && x.Ino == y.Ino;

    string RenameOver()
    {
        var a = AnyFile(out var n1);
        var b = AnyFile(out var n2);
        if (a == b || SameInode(a, b)) { b = NewPath("f", ".txt"); n2 = $" (new: {WriteNew(b, rng.Next(1, 4096))})"; }
        Native.Rename(A(a), A(b));
        Model.Rename(a, b);
        return $"mv {S(a)} {S(b)} (over an existing file){n1}{n2}";
    }

    string RenameChain()
    {
        var a = AnyFile(out var n1);
        var b = AnyFile(out var n2);
        if (a == b || SameInode(a, b)) { b = NewPath("f", ".txt"); n2 = $" (new: {WriteNew(b, rng.Next(1, 4096))})"; }
        var c = NewPath("chain", ".txt");
        Native.Rename(A(a), A(b)); Model.Rename(a, b);
        Native.Rename(A(b), A(c)); Model.Rename(b, c);
        return $"mv {S(a)} {S(b)} && mv {S(b)} {S(c)}{n1}{n2}";
    }

    string DirRename()
    {
        var d = AnyDirNotRoot(out var note);
        var x = Bytes.Join(d, Fresh("x") + ".txt");
        WriteNew(x, rng.Next(1, 16384));
        var e = MoveDirectory(d);
        return $"write {S(x)} && mv {S(d)} {S(e)}{note}";
    }

    /// <summary>Renames directory d to a fresh name under a directory outside it; returns the new path.</summary>
    string MoveDirectory(string d)
    {
        string parent;
        do parent = AnyDir(); while (parent == d || Bytes.IsUnder(parent, d));
        var e = Bytes.Join(parent, Fresh("e"));
        Native.Rename(A(d), A(e));
        Model.Rename(d, e);
        return e;
    }

    string RewriteThenDirRename()
    {
        // Size and mtime (restored to the nanosecond) say the file did not change; only the queued hint knows, and it
        // names the file's old path once its directory is renamed right after. A hint lost there leaves the old
        // content on the replica for good.
        string f = null;
        for (int i = 0; i < 20 && f == null; i++)
        {
            var c = Model.Files.Count > 0 ? Pick(Model.Files) : null;
            if (c != null && Bytes.Parent(c).Length > 0 && Native.LStat(A(c))?.Size > 0) f = c;
        }
        var note = "";
        if (f == null)
        {
            var nd = AnyDirNotRoot(out note);
            f = Bytes.Join(nd, Fresh("r") + ".txt");
            note += $" (new: {WriteNew(f, rng.Next(1, 4096))})";
        }
        var d = Bytes.Parent(f);
        // Let the mirror catch up (the replica has d), then keep each target busy with a big new file, so the rewrite's
        // hint and the rename's arrive while it works and are planned in one batch.
        Thread.Sleep(rng.Next(150, 400));
        var ballast = WriteNew(NewPath("ballast", ".bin"), 4 << 20);
        var st = Native.LStat(A(f)).Value;
        Native.WriteFile(A(f), Content((int)st.Size));
        Native.SetTimes(A(f), st.MtimeSec, st.MtimeNsec);
        var e = MoveDirectory(d);
        return $"create {ballast}; rewrite {S(f)} ({st.Size} B, mtime {st.MtimeSec}.{st.MtimeNsec:D9} restored) && mv {S(d)} {S(e)}{note}";
    }

    string Swap()
    {
        // Two files of the same size and different content, swapped through a temp name.
        var size = rng.Next(1, 8192);
        var dir = AnyDir();
        string a = Bytes.Join(dir, Fresh("sw") + ".txt"), b = Bytes.Join(dir, Fresh("sw") + ".txt");
        if (rng.Next(2) == 0 && Model.Files.Count >= 2)
        {
            var cand = Pick(Model.Files);
            var st = Native.LStat(A(cand));
            if (st?.IsFile == true && st.Value.Size > 0) { a = cand; size = (int)st.Value.Size; }
        }
        if (!Model.Exists(a)) WriteNew(a, size);
        WriteNew(b, size);
        var t = Bytes.Join(Bytes.Parent(a), Fresh("swaptmp"));
        Native.Rename(A(a), A(t)); Model.Rename(a, t);
        Native.Rename(A(b), A(a)); Model.Rename(b, a);
        Native.Rename(A(t), A(b)); Model.Rename(t, b);
        return $"swap {S(a)} <-> {S(b)} (both {size} B) via {S(t)}";
    }

    string FileDirSwap()
    {
        if (Model.Dirs.Count > 0 && rng.Next(2) == 0)
        {
            var d = DirToDestroy();
            RemoveTreeOnDisk(d); Model.RemoveTree(d);
            var info = WriteNew(d, rng.Next(0, 4096));
            return $"rm -rf {S(d)} && write file {info}";
        }
        var f = AnyFile(out var note);
        Native.Unlink(A(f)); Model.Remove(f);
        Native.Mkdir(A(f)); Model.Add(f, Kind.Dir);
        var c = Bytes.Join(f, Fresh("c") + ".txt");
        WriteNew(c, rng.Next(0, 4096));
        return $"rm {S(f)} && mkdir {S(f)} && write {S(c)}{note}";
    }

    byte[] LinkTarget()
    {
        switch (rng.Next(8))
        {
            case 0: return "/etc/passwd"u8.ToArray();
            case 1: return "/nonexistent/absolute/target"u8.ToArray();
            case 2: return ".."u8.ToArray();
            case 3: return "../../outside/../x"u8.ToArray();
            case 4: return new byte[] { (byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'/', 0xFF, 0x80 };
            case 5 when Model.Files.Count > 0: return Bytes.Raw(Bytes.Name(Pick(Model.Files)));
            case 6: return Bytes.Raw(new string('t', 1 + rng.Next(300)));
            default: return "dangling-target"u8.ToArray();
        }
    }

    string FileSymlinkSwap()
    {
        if (Model.Links.Count > 0 && rng.Next(2) == 0)
        {
            var l = Pick(Model.Links);
            Native.Unlink(A(l)); Model.Remove(l);
            return $"rm {S(l)} && write file {WriteNew(l, rng.Next(0, 4096))}";
        }
        var f = AnyFile(out var note);
        var t = LinkTarget();
        Native.Unlink(A(f)); Model.Remove(f);
        Native.Symlink(t, A(f)); Model.Add(f, Kind.Symlink);
        return $"rm {S(f)} && ln -s {Bytes.Show(t)} {S(f)}{note}";
    }

    string SymlinkOp()
    {
        var t = LinkTarget();
        if (Model.Links.Count > 0 && rng.Next(2) == 0)
        {
            var l = Pick(Model.Links);
            if (rng.Next(2) == 0)
            {
                Native.Unlink(A(l));
                Native.Symlink(t, A(l));
                return $"retarget (rm + ln -s) {S(l)} -> {Bytes.Show(t)}";
            }
            var tmp = Bytes.Join(Bytes.Parent(l), Fresh("lntmp"));
            Native.Symlink(t, A(tmp));
            Native.Rename(A(tmp), A(l));
            return $"retarget (ln -s {S(tmp)} && mv over) {S(l)} -> {Bytes.Show(t)}";
        }
        var p = NewPath("l");
        Native.Symlink(t, A(p));
        Model.Add(p, Kind.Symlink);
        return $"ln -s {Bytes.Show(t)} {S(p)}";
    }

    string Hardlink()
    {
        var a = AnyFile(out var note);
        var b = Bytes.Join(AnyDir(), Fresh("hl") + ".txt");
        Native.Link(A(a), A(b));
        Model.Add(b, Kind.File);
        var pause = rng.Next(0, 121);
        Thread.Sleep(pause);
        var via = rng.Next(2) == 0 ? a : b;
        var size = Native.LStat(A(via)).Value.Size;
        var data = Content(rng.Next(1, 64));
        var off = size == 0 ? 0 : rng.NextInt64(0, size);
        Native.PWrite(A(via), data, off);
        return $"ln {S(a)} {S(b)} (sleep {pause} ms) then write {data.Length} B at {off} through {S(via)} (no truncate){note}";
    }

    /// <summary>Each replica root and, beside the replicas (same file system, outside every root), a folder for its traps.</summary>
    public List<(string Kind, string Replica, string TrapDir)> Traps { get; } = new();
    readonly List<(string Path, uint Perm, uint Uid, uint Gid, long Mtime, string Hash)> planted = new();

    /// <summary>
    /// A user of the backup host plants, in every replica, a hard link from the replica's copy of a source file to a
    /// file of its own outside the replica (as it would to /etc/shadow): same size and mtime as the source file, mode
    /// 0600, other bytes. Then the source file is chmodded (and sometimes chowned): the mirror's metadata-only update
    /// must replace the replica's name, never chmod/chown the shared inode. <see cref="CheckTraps"/> judges.
    /// </summary>
    string ReplicaHardlink()
    {
        var p = AnyFile(out var note);
        if (Native.LStat(A(p)) is not StatInfo st || !st.IsFile) throw new NativeException("lstat", 2, A(p));
        var done = new List<string>();
        foreach (var (kind, replica, trapDir) in Traps)
        {
            var trap = $"{trapDir}/trap{++counter}";
            var bytes = new byte[st.Size];
            Array.Fill(bytes, (byte)'T');
            Native.WriteFile(Bytes.Raw(trap), bytes);
            Native.Chmod(Bytes.Raw(trap), Mode.Oc(600));
            Native.SetTimes(Bytes.Raw(trap), st.MtimeSec, st.MtimeNsec);
            var name = replica + "/" + p;
            var temp = replica + "/" + Bytes.Join(Bytes.Parent(p), ".plant" + counter);
            try
            {
                Native.Link(Bytes.Raw(trap), Bytes.Raw(temp));
                Native.Rename(Bytes.Raw(temp), Bytes.Raw(name));
                done.Add(kind);
            }
            catch (NativeException) { try { Native.Unlink(Bytes.Raw(temp)); } catch (NativeException) { } } // not on that replica yet
            var t = Native.LStat(Bytes.Raw(trap)).Value;
            planted.Add((trap, (uint)t.Perm, t.Uid, t.Gid, t.MtimeSec, Convert.ToHexString(Native.HashFile(Bytes.Raw(trap)))));
        }
        uint[] modes = { Mode.Oc(644), Mode.Oc(640), Mode.Oc(664), Mode.Oc(755) };
        var mode = modes[rng.Next(modes.Length)];
        var chown = rng.Next(2) == 0 ? $" chown {Ids[rng.Next(Ids.Length)]}" : "";
        if (chown.Length > 0) { var id = uint.Parse(chown.Substring(7)); Native.Lchown(A(p), id, id); }
        Native.Chmod(A(p), mode);
        return $"hard links to traps planted at {S(p)} in {string.Join(",", done)}; source{chown} chmod {Oct(mode)}{note}";
    }

    /// <summary>Every planted trap as it was made: content, mode, owner, mtime, and no name left in a replica.</summary>
    public List<string> CheckTraps()
    {
        var diffs = new List<string>();
        foreach (var (path, perm, uid, gid, mtime, hash) in planted)
        {
            var t = Native.LStat(Bytes.Raw(path));
            if (t is not StatInfo now) { diffs.Add($"trap {path}: gone"); continue; }
            var h = Convert.ToHexString(Native.HashFile(Bytes.Raw(path)));
            if (now.Perm != perm || now.Uid != uid || now.Gid != gid || now.MtimeSec != mtime || h != hash)
                diffs.Add($"trap {path}: changed through a replica hard link (mode {Oct((uint)now.Perm)} was {Oct(perm)}, owner {now.Uid}:{now.Gid} was {uid}:{gid}, mtime {now.MtimeSec} was {mtime}, content {(h == hash ? "same" : "CHANGED")})");
            else if (now.Nlink != 1) diffs.Add($"trap {path}: still has {now.Nlink} names (a replica kept the planted link)");
        }
        return diffs;
    }

    string MoveOutIn()
    {
        if (stash.Count > 0 && rng.Next(2) == 0)
        {
            var (name, tree) = stash[0];
            stash.RemoveAt(0);
            var back = rng.Next(2) == 0 ? Bytes.Join(AnyDir(), Fresh("back")) : Bytes.Join(AnyDir(), name);
            if (Model.Exists(back)) back = Bytes.Join(Bytes.Parent(back), Fresh("back"));
            Native.Rename(Bytes.Raw(scratch + "/" + name), A(back));
            Model.Add(back, Kind.Dir);
            Model.AddTree(back, tree.Where(t => t.Suffix.Length > 0).ToList());
            return $"mv <scratch>/{S(name)} {S(back)} (back into the tree, {tree.Count} entries)";
        }
        var d = AnyDirNotRoot(out var note);
        var tmpName = Fresh("out");
        Native.Rename(A(d), Bytes.Raw(scratch + "/" + tmpName));
        var gone = Model.RemoveTree(d);
        stash.Add((tmpName, gone));
        // What happens to it while outside: an edit the watcher cannot see.
        var f = gone.FirstOrDefault(g => g.Kind == Kind.File).Suffix;
        var extra = "";
        if (f != null) { Native.WriteFile(Bytes.Raw(scratch + "/" + tmpName + f), Content(rng.Next(1, 512)), append: true); extra = $", then appended to <scratch>/{S(tmpName + f)}"; }
        return $"mv {S(d)} <scratch>/{S(tmpName)} (out of the tree, {gone.Count} entries){extra}{note}";
    }

    string Unpack()
    {
        var parent = AnyDir();
        var staging = Bytes.Join(parent, Fresh("staging"));
        Native.Mkdir(A(staging));
        var entries = new List<(string, Kind)> { ("", Kind.Dir) };
        var subdirs = new List<string> { "" };
        for (var i = 0; i < 200; i++)
        {
            if (i % 40 == 0 && i > 0) { var sd = "/" + Fresh("pkg"); Native.Mkdir(Bytes.Raw(root + "/" + staging + sd)); subdirs.Add(sd); entries.Add((sd, Kind.Dir)); }
            var rel = Pick(subdirs) + "/" + Fresh("u") + ".txt";
            Native.WriteFile(Bytes.Raw(root + "/" + staging + rel), Content(rng.Next(0, 2048)));
            entries.Add((rel, Kind.File));
        }
        var final = Bytes.Join(parent, Fresh("pkgdir"));
        Native.Rename(A(staging), A(final));
        Model.AddTree(final, entries);
        return $"unpack 200 files into {S(staging)} then mv {S(staging)} {S(final)}";
    }

    string EditorSave()
    {
        var x = AnyFile(out var note);
        var swp = Bytes.Join(Bytes.Parent(x), "." + Bytes.Name(x) + ".swp");
        var size = rng.Next(0, 16384);
        Native.WriteFile(A(swp), Content(size));
        Thread.Sleep(rng.Next(0, 30));
        Native.Rename(A(swp), A(x));
        var extra = "";
        if (rng.Next(5) == 0)
        {
            // A swap file left behind by a crashed editor: excluded, must never appear on a replica.
            var stale = Bytes.Join(AnyDir(), "." + Fresh("stale") + ".swp");
            Native.WriteFile(A(stale), Content(rng.Next(1, 1024)));
            extra = $", left {S(stale)} behind (excluded)";
        }
        return $"editor-save write {S(swp)} ({size} B) && mv {S(swp)} {S(x)}{extra}{note}";
    }

    string NonUtf8Name(string stem)
    {
        var odd = new[] { "\u00E9", "\u00FF", "\u0080", "\u00E9\u00FF\u0080", "caf\u00E9", "\u00C3" }; // Latin-1 chars = single raw bytes
        return stem + odd[rng.Next(odd.Length)] + (++counter);
    }

    string NonUtf8()
    {
        switch (rng.Next(4))
        {
            case 0:
            {
                var d = Bytes.Join(AnyDir(), NonUtf8Name("dir-"));
                Native.Mkdir(A(d)); Model.Add(d, Kind.Dir);
                return $"mkdir {S(d)} with {WriteNew(Bytes.Join(d, NonUtf8Name("in-")), rng.Next(0, 4096))}";
            }
            case 1:
            {
                var f = AnyFile(out var note);
                var to = Bytes.Join(Bytes.Parent(f), NonUtf8Name("renamed-"));
                Native.Rename(A(f), A(to)); Model.Rename(f, to);
                return $"mv {S(f)} {S(to)}{note}";
            }
            default:
                return "create " + WriteNew(Bytes.Join(AnyDir(), NonUtf8Name("file-")), rng.Next(0, 8192));
        }
    }

    string Name255(string stem)
    {
        var tag = $"{stem}{++counter}-";
        return tag + new string((char)('a' + rng.Next(26)), 255 - tag.Length);
    }

    string LongName()
    {
        switch (rng.Next(3))
        {
            case 0:
            {
                var d = Bytes.Join(AnyDir(), Name255("D"));
                Native.Mkdir(A(d)); Model.Add(d, Kind.Dir);
                return $"mkdir (255-byte name) {S(d)} with {WriteNew(Bytes.Join(d, Name255("F")), rng.Next(0, 4096))}";
            }
            case 1:
            {
                var f = AnyFile(out var note);
                var to = Bytes.Join(Bytes.Parent(f), Name255("R"));
                Native.Rename(A(f), A(to)); Model.Rename(f, to);
                return $"mv {S(f)} (to a 255-byte name) {S(to)}{note}";
            }
            default:
                return "create (255-byte name) " + WriteNew(Bytes.Join(AnyDir(), Name255("F")), RandomSize());
        }
    }

    string Fifo()
    {
        if (rng.Next(3) == 0)
        {
            var p = NewPath("fifo");
            Native.Mkfifo(A(p)); Model.Add(p, Kind.Fifo);
            return $"mkfifo {S(p)}";
        }
        var f = AnyFile(out var note);
        Native.Unlink(A(f)); Model.Remove(f);
        Native.Mkfifo(A(f), Mode.Oc(640)); Model.Add(f, Kind.Fifo);
        return $"rm {S(f)} && mkfifo -m 0640 {S(f)} (fifo replaces file){note}";
    }

    string Delete()
    {
        var r = rng.Next(10);
        if (r < 1 && Model.Dirs.Count > 0)
        {
            var d = DirToDestroy();
            RemoveTreeOnDisk(d);
            var n = Model.RemoveTree(d).Count;
            return $"rm -rf {S(d)} ({n} entries)";
        }
        var pool = r < 8 ? Model.Files : r == 8 ? Model.Links : Model.Fifos;
        if (pool.Count == 0) pool = Model.Files;
        if (pool.Count == 0) return Create();
        var p = Pick(pool);
        Native.Unlink(A(p)); Model.Remove(p);
        return $"rm {S(p)}";
    }

    /// <summary>The starting tree: plain ASCII names, a few directories, files of assorted sizes, two symlinks.</summary>
    public static void MakeInitialTree(int seed, string root, int files = 40)
    {
        var r = new Random(seed ^ 0x5EED);
        var dirs = new List<string> { "" };
        for (var i = 0; i < 6; i++)
        {
            var d = Bytes.Join(dirs[r.Next(dirs.Count)], $"init-d{i}");
            Native.Mkdir(Bytes.Raw(root + "/" + d));
            dirs.Add(d);
        }
        for (var i = 0; i < files; i++)
        {
            var f = Bytes.Join(dirs[r.Next(dirs.Count)], $"init-f{i}.txt");
            var b = new byte[r.Next(0, 32 * 1024)];
            r.NextBytes(b);
            Native.WriteFile(Bytes.Raw(root + "/" + f), b);
        }
        Native.Symlink("init-f0.txt"u8.ToArray(), Bytes.Raw(root + "/init-link"));
        Native.Symlink("../no/such"u8.ToArray(), Bytes.Raw(root + "/init-d0/dangling"));
    }
}
