using System;
using System.IO;

namespace RealtimeMirror.Engine.Platform
{
    /// <summary>
    /// A path that stopped being what it was between two looks at it: gone (ENOENT), a component no longer a
    /// directory (ENOTDIR) or now a symlink (ELOOP, we never follow one). On a live tree that is the world moving on,
    /// not a failure of the entry: the next plan (its own event follows) sees the path as it is then.
    /// </summary>
    public static class PathRace
    {
        public static bool Is(Exception e) =>
            e is FileNotFoundException || e is DirectoryNotFoundException ||
            e is PosixException p && (p.Errno == 2 /* ENOENT */ || p.Errno == 20 /* ENOTDIR */ || p.Errno == 40 /* ELOOP */);
    }
}
