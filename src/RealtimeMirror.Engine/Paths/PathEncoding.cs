using System;
using System.Text;

namespace RealtimeMirror.Engine.Paths
{
    /// <summary>
    /// The one encoding of file names at every boundary (directory listings, the watcher, POSIX calls, SFTP, the
    /// rsync file list, results). On Linux a name is any byte sequence without '/' and NUL, not UTF-8: an old file
    /// server holds Latin-1 names such as "caf\xe9". Valid UTF-8 decodes as usual; every byte that is not part of
    /// valid UTF-8 becomes the lone surrogate U+DC00+byte (Python's os.fsdecode "surrogateescape"), and encoding
    /// turns such a surrogate back into its byte. So any name round-trips exactly, two names that differ in such
    /// bytes never collide, and they still print readably (the odd byte shows as one replacement glyph).
    /// </summary>
    public sealed class PathEncoding : Encoding
    {
        public static readonly PathEncoding Instance = new PathEncoding();

        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        public override string EncodingName => "UTF-8 (surrogate escape)";
        public override string WebName => "utf-8";

        /// <summary>The bytes of a name or path, without a terminating NUL.</summary>
        public static byte[] ToBytes(string s) => Instance.GetBytes(s);

        /// <summary>The bytes with a terminating NUL, for libc.</summary>
        public static byte[] ToCString(string s)
        {
            var n = Instance.GetByteCount(s);
            var b = new byte[n + 1];
            Instance.GetBytes(s, 0, s.Length, b, 0);
            return b;
        }

        public static string FromBytes(byte[] bytes, int index, int count) => Instance.GetString(bytes, index, count);
        public static string FromBytes(byte[] bytes) => Instance.GetString(bytes, 0, bytes.Length);

        /// <summary>True when the name holds bytes that are not UTF-8 (carried as escapes).</summary>
        public static bool HasEscapedBytes(string s)
        {
            foreach (var c in s) if (c >= 0xDC80 && c <= 0xDCFF) return true;
            return false;
        }

        /// <summary>Byte count of a name as the file system sees it (NAME_MAX counts bytes).</summary>
        public static int ByteCount(string s) => Instance.GetByteCount(s);

        public override int GetByteCount(char[] chars, int index, int count)
        {
            int n = 0;
            int end = index + count;
            for (int i = index; i < end; i++)
            {
                char c = chars[i];
                if (c < 0x80) n += 1;
                else if (c < 0x800) n += 2;
                else if (char.IsHighSurrogate(c) && i + 1 < end && char.IsLowSurrogate(chars[i + 1])) { n += 4; i++; }
                else if (c >= 0xDC80 && c <= 0xDCFF) n += 1; // an escaped byte
                else if (char.IsSurrogate(c)) n += 3;         // any other lone surrogate: UTF-8's replacement
                else n += 3;
            }
            return n;
        }

        public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex)
        {
            int o = byteIndex;
            int end = charIndex + charCount;
            for (int i = charIndex; i < end; i++)
            {
                int c = chars[i];
                if (c < 0x80) bytes[o++] = (byte)c;
                else if (c < 0x800)
                {
                    bytes[o++] = (byte)(0xC0 | (c >> 6));
                    bytes[o++] = (byte)(0x80 | (c & 0x3F));
                }
                else if (char.IsHighSurrogate((char)c) && i + 1 < end && char.IsLowSurrogate(chars[i + 1]))
                {
                    int cp = char.ConvertToUtf32((char)c, chars[i + 1]);
                    i++;
                    bytes[o++] = (byte)(0xF0 | (cp >> 18));
                    bytes[o++] = (byte)(0x80 | ((cp >> 12) & 0x3F));
                    bytes[o++] = (byte)(0x80 | ((cp >> 6) & 0x3F));
                    bytes[o++] = (byte)(0x80 | (cp & 0x3F));
                }
                else if (c >= 0xDC80 && c <= 0xDCFF) bytes[o++] = (byte)(c - 0xDC00);
                else
                {
                    if (char.IsSurrogate((char)c)) c = 0xFFFD;
                    bytes[o++] = (byte)(0xE0 | (c >> 12));
                    bytes[o++] = (byte)(0x80 | ((c >> 6) & 0x3F));
                    bytes[o++] = (byte)(0x80 | (c & 0x3F));
                }
            }
            return o - byteIndex;
        }

        public override int GetCharCount(byte[] bytes, int index, int count)
        {
            int n = 0;
            Decode(bytes, index, count, null, 0, ref n);
            return n;
        }

        public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
        {
            int n = 0;
            Decode(bytes, byteIndex, byteCount, chars, charIndex, ref n);
            return n;
        }

        /// <summary>Strict UTF-8 sequence by sequence; a byte that does not start a valid sequence is escaped alone.</summary>
        private static void Decode(byte[] b, int index, int count, char[] chars, int charIndex, ref int n)
        {
            int end = index + count;
            int i = index;
            while (i < end)
            {
                int x = b[i];
                int len = x < 0x80 ? 1 : x >= 0xC2 && x <= 0xDF ? 2 : x >= 0xE0 && x <= 0xEF ? 3 : x >= 0xF0 && x <= 0xF4 ? 4 : 0;
                int cp = -1;
                if (len == 1) cp = x;
                else if (len > 1 && i + len <= end)
                {
                    cp = x & (0x7F >> len);
                    for (int k = 1; k < len; k++)
                    {
                        int y = b[i + k];
                        if ((y & 0xC0) != 0x80) { cp = -1; break; }
                        cp = (cp << 6) | (y & 0x3F);
                    }
                    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not valid UTF-8.
                    if (cp >= 0 && (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) || len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) cp = -1;
                }
                if (cp < 0)
                {
                    if (chars != null) chars[charIndex + n] = (char)(0xDC00 + x);
                    n++;
                    i++;
                    continue;
                }
                if (cp >= 0x10000)
                {
                    if (chars != null)
                    {
                        var pair = char.ConvertFromUtf32(cp);
                        chars[charIndex + n] = pair[0];
                        chars[charIndex + n + 1] = pair[1];
                    }
                    n += 2;
                }
                else
                {
                    if (chars != null) chars[charIndex + n] = (char)cp;
                    n++;
                }
                i += len;
            }
        }

        public override int GetMaxByteCount(int charCount) => charCount * 3 + 3;
        public override int GetMaxCharCount(int byteCount) => byteCount + 1;
    }
}
