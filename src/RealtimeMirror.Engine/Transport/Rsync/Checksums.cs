using System;
using System.IO.Hashing;
using System.Security.Cryptography;

namespace RealtimeMirror.Engine.Transport.Rsync
{
    /// <summary>The strong checksums rsync can use, by its names; Md4Old is protocol 27-29's seeded MD4.</summary>
    public enum RsyncChecksumKind { Md4Old, Md4, Md5, Xxh64, Xxh3, Xxh128 }

    /// <summary>
    /// The negotiated strong checksum with rsync's seed rules: block sums are seeded (MD4 appends the seed, MD5
    /// puts it first with the seed-order fix and last without, xxhash takes it as its seed, sign-extended), the
    /// whole-file sum is seeded only for the old MD4. Digests are in rsync's byte order: xxhash values
    /// little-endian (System.IO.Hashing gives them big-endian), 128-bit as low half then high half.
    /// </summary>
    internal sealed class RsyncChecksum
    {
        public RsyncChecksumKind Kind { get; }
        public int Seed { get; }
        public bool ProperSeedOrder { get; }
        private readonly byte[] _seedBytes;

        public RsyncChecksum(RsyncChecksumKind kind, int seed, bool properSeedOrder)
        {
            Kind = kind;
            Seed = seed;
            ProperSeedOrder = properSeedOrder;
            _seedBytes = seed == 0 ? Array.Empty<byte>() : BitConverter.GetBytes(seed);
        }

        /// <summary>Our preference, strongest and fastest first (the names rsync uses in the negotiation).</summary>
        public static readonly (string Name, RsyncChecksumKind Kind)[] Supported =
        {
            ("xxh128", RsyncChecksumKind.Xxh128), ("xxh3", RsyncChecksumKind.Xxh3), ("xxh64", RsyncChecksumKind.Xxh64),
            ("xxhash", RsyncChecksumKind.Xxh64), ("md5", RsyncChecksumKind.Md5), ("md4", RsyncChecksumKind.Md4),
        };

        public int DigestLength => Kind == RsyncChecksumKind.Xxh64 || Kind == RsyncChecksumKind.Xxh3 ? 8 : 16;

        /// <summary>The strong sum of one block, into <paramref name="digest"/> (at least 16 bytes).</summary>
        public void Block(byte[] buf, int offset, int count, Md4 md4, byte[] digest)
        {
            var data = new ReadOnlySpan<byte>(buf, offset, count);
            switch (Kind)
            {
                case RsyncChecksumKind.Md4Old:
                case RsyncChecksumKind.Md4:
                    md4.Reset();
                    md4.Update(buf, offset, count);
                    md4.Update(_seedBytes, 0, _seedBytes.Length);
                    md4.Final().CopyTo(digest, 0);
                    break;
                case RsyncChecksumKind.Md5:
                    using (var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5))
                    {
                        if (ProperSeedOrder) md5.AppendData(_seedBytes);
                        md5.AppendData(data);
                        if (!ProperSeedOrder) md5.AppendData(_seedBytes);
                        md5.GetHashAndReset(digest);
                    }
                    break;
                case RsyncChecksumKind.Xxh64:
                    XxHash64.Hash(data, digest, Seed);
                    Array.Reverse(digest, 0, 8);
                    break;
                case RsyncChecksumKind.Xxh3:
                    XxHash3.Hash(data, digest, Seed);
                    Array.Reverse(digest, 0, 8);
                    break;
                case RsyncChecksumKind.Xxh128:
                    XxHash128.Hash(data, digest, Seed);
                    Array.Reverse(digest, 0, 16);
                    break;
            }
        }

        /// <summary>A fresh whole-file sum (the one sent after a file's tokens).</summary>
        public FileSum NewFileSum() => new FileSum(this);

        internal sealed class FileSum
        {
            private readonly RsyncChecksum _c;
            private Md4 _md4;
            private IncrementalHash _md5;
            private NonCryptographicHashAlgorithm _xxh;

            public FileSum(RsyncChecksum c) { _c = c; Reset(); }

            public void Reset()
            {
                switch (_c.Kind)
                {
                    case RsyncChecksumKind.Md4Old:
                        (_md4 ??= new Md4()).Reset();
                        _md4.Update(BitConverter.GetBytes(_c.Seed), 0, 4); // always, even a zero seed
                        break;
                    case RsyncChecksumKind.Md4: (_md4 ??= new Md4()).Reset(); break;
                    case RsyncChecksumKind.Md5: _md5?.Dispose(); _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5); break;
                    case RsyncChecksumKind.Xxh64: _xxh = new XxHash64(); break;
                    case RsyncChecksumKind.Xxh3: _xxh = new XxHash3(); break;
                    case RsyncChecksumKind.Xxh128: _xxh = new XxHash128(); break;
                }
            }

            public void Update(byte[] buf, int offset, int count)
            {
                if (_md4 != null) _md4.Update(buf, offset, count);
                else if (_md5 != null) _md5.AppendData(buf, offset, count);
                else _xxh.Append(new ReadOnlySpan<byte>(buf, offset, count));
            }

            public byte[] Final()
            {
                if (_md4 != null) return _md4.Final();
                if (_md5 != null) return _md5.GetHashAndReset();
                var d = _xxh.GetCurrentHash();
                Array.Reverse(d);
                return d;
            }
        }
    }
}
