using System.Text;

namespace RealtimeMirror.Fuzz;

/// <summary>
/// Paths are raw bytes. Inside the fuzzer a path is carried as a Latin-1 string (one char per byte, lossless), which
/// gives ordinal sorting, hashing and prefix tests for free; Raw() turns it back into the bytes the kernel sees.
/// </summary>
public static class Bytes
{
    public static byte[] Raw(string latin1) => Encoding.Latin1.GetBytes(latin1);
    public static string L(byte[] raw) => Encoding.Latin1.GetString(raw);
    public static string L(string utf8) => Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(utf8));

    public static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;
    public static string Parent(string path) { var i = path.LastIndexOf('/'); return i < 0 ? "" : path[..i]; }
    public static string Name(string path) { var i = path.LastIndexOf('/'); return i < 0 ? path : path[(i + 1)..]; }
    public static bool IsUnder(string path, string dir) => path.Length > dir.Length && path[dir.Length] == '/' && path.StartsWith(dir, StringComparison.Ordinal);

    public static string Show(string latin1) => Show(Raw(latin1));

    /// <summary>Readable and unambiguous: valid UTF-8 is shown as text, anything else (and control bytes, '"', '\') escaped.</summary>
    public static string Show(byte[] raw)
    {
        var sb = new StringBuilder("\"");
        var i = 0;
        while (i < raw.Length)
        {
            var b = raw[i];
            if (b >= 0x80)
            {
                var len = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
                if (len > 0 && i + len <= raw.Length && IsValidUtf8(raw.AsSpan(i, len)))
                {
                    sb.Append(Encoding.UTF8.GetString(raw, i, len));
                    i += len;
                    continue;
                }
                sb.Append($"\\x{b:X2}");
            }
            else if (b < 0x20 || b == 0x7F) sb.Append($"\\x{b:X2}");
            else if (b == '"' || b == '\\') sb.Append('\\').Append((char)b);
            else sb.Append((char)b);
            i++;
        }
        if (raw.Length > 80) { } // long names are shown whole: a 255-byte name must be recognisable as such
        return sb.Append('"').ToString();
    }

    static bool IsValidUtf8(ReadOnlySpan<byte> s)
    {
        try { new UTF8Encoding(false, true).GetString(s); return true; }
        catch (DecoderFallbackException) { return false; }
    }

    /// <summary>Shell-style glob on one name component: * and ? only (what the fuzzer's -Exclude uses).</summary>
    public static bool Glob(string pattern, string name)
    {
        int p = 0, n = 0, star = -1, mark = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == name[n])) { p++; n++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = n; }
            else if (star >= 0) { p = star + 1; n = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}
