using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using RealtimeMirror.Engine.Paths;
using RealtimeMirror.Engine.Planning;
using RealtimeMirror.Engine.Platform;
using RealtimeMirror.Engine.Transport;

namespace RealtimeMirror.Engine.Sync
{
    /// <summary>
    /// How much of a replica one plan may delete or overwrite before it is halted: "50%" (a share of the replica's
    /// entries) or "N" (a count). A share applies only once a plan removes at least <see cref="PercentFloor"/>
    /// entries, so deleting 2 files of a 3-file replica is not a mass deletion.
    /// </summary>
    public sealed class HaltThreshold
    {
        public const string DefaultText = "50%";
        public const int PercentFloor = 10;

        private HaltThreshold(double? percent, long? count) { Percent = percent; Count = count; }

        public double? Percent { get; }
        public long? Count { get; }

        public static HaltThreshold Default => Parse(DefaultText);

        /// <summary>"50%", "50 %", "0.5%" or a whole count "1000". Throws ArgumentException otherwise.</summary>
        public static HaltThreshold Parse(string text)
        {
            var t = (text ?? "").Trim();
            if (t.EndsWith("%", StringComparison.Ordinal))
            {
                if (double.TryParse(t.Substring(0, t.Length - 1).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) && p >= 0 && p <= 100)
                    return new HaltThreshold(p, null);
            }
            else if (long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 0)
                return new HaltThreshold(null, n);
            throw new ArgumentException($"'{text}' is not a halt threshold: give a share like '50%' or a count like '1000'.");
        }

        public static bool IsValid(string text)
        {
            try { Parse(text); return true; } catch (ArgumentException) { return false; }
        }

        public bool Exceeded(long affected, long total)
        {
            if (Count is long c) return affected > c;
            if (affected < PercentFloor || Percent >= 100) return false; // 100%: no share check (an emptied root still halts)
            return affected > (Percent ?? 50) / 100.0 * Math.Max(total, 1);
        }

        public override string ToString() => Count is long c ? c.ToString(CultureInfo.InvariantCulture) : Percent.Value.ToString(CultureInfo.InvariantCulture) + "%";
    }

    /// <summary>A plan that would delete or overwrite too much of the replica, not executed.</summary>
    public sealed class MassDeletionHaltedException : Exception
    {
        public MassDeletionHaltedException(string target, long affected, long total, string why)
            : base($"Target '{target}' halted: {why}. Nothing was applied; check the source, then resume (Resume-MirrorTarget, or -AllowMassDelete / -Force).")
        {
            Affected = affected;
            Total = total;
        }

        public long Affected { get; }
        public long Total { get; }
    }

    /// <summary>
    /// Counts what a plan would remove from the replica, cheaply: deleted files count one each, a deleted directory one
    /// plus what is under it (counted on the replica, stopping once the answer is clear), and files about to be
    /// overwritten one each. The replica's size is what a whole-tree plan listed, else the count kept from the last
    /// whole-tree plan of this session, else a count of the replica taken once.
    /// </summary>
    internal static class MassDeletionGuard
    {
        public static void Check(string target, Plan plan, IReplica replica, DirectoryHandle source, SyncOptions o, ref long? knownSize)
        {
            var deletes = plan.Actions.Where(a => a.Kind == ActionKind.Delete).ToList();
            long overwrites = plan.Actions.Count(a => a.Kind == ActionKind.SendFile && a.Replica != null);
            long deleted = 0, underDeletedDirs = 0;
            const long Cap = 10_000_000;
            foreach (var d in deletes)
            {
                deleted++;
                if (d.Replica?.Kind == EntryKind.Directory)
                {
                    long n = CountBelow(replica, d.RelativePath, Cap);
                    deleted += n;
                    underDeletedDirs += n;
                }
            }
            long total;
            if (plan.WholeTree) total = plan.ReplicaEntriesListed + underDeletedDirs;
            else
            {
                if (knownSize == null && deleted + overwrites > 0 && !o.AllowMassDelete && o.HaltThreshold != null)
                    knownSize = CountBelow(replica, "", Cap);
                total = knownSize ?? 0;
            }

            if (!o.AllowMassDelete && o.HaltThreshold != null && deleted > 0 && SourceRootEmpty(plan, source, o))
                throw new MassDeletionHaltedException(target, deleted, total,
                    $"the source root is empty and the plan would delete {deleted} of the replica's {total} entries");
            long affected = deleted + overwrites;
            if (!o.AllowMassDelete && o.HaltThreshold != null && o.HaltThreshold.Exceeded(affected, total))
                throw new MassDeletionHaltedException(target, affected, total,
                    $"the plan would delete {deleted} and overwrite {overwrites} of the replica's {total} entries, over the halt threshold of {o.HaltThreshold}");

            // The replica's size once this plan is applied: a whole-tree plan measured it, later plans keep it current.
            if (plan.WholeTree || knownSize != null)
            {
                long created = plan.Actions.Count(a => a.Replica == null && a.Kind != ActionKind.SetMetadata && a.Kind != ActionKind.Delete);
                knownSize = Math.Max(0, total - deleted + created);
            }
        }

        private static bool SourceRootEmpty(Plan plan, DirectoryHandle source, SyncOptions o)
        {
            try { return source.List("").All(m => o.Exclude.IsExcluded(m.RelativePath, m.Kind == EntryKind.Directory)); }
            catch (Exception) { return false; }
        }

        /// <summary>Entries below <paramref name="dir"/> on the replica (not counting it), up to <paramref name="cap"/>.</summary>
        private static long CountBelow(IReplica replica, string dir, long cap)
        {
            long n = 0;
            var pending = new Stack<string>();
            pending.Push(dir);
            while (pending.Count > 0 && n < cap)
            {
                List<FileMeta> list;
                try { list = replica.List(pending.Pop()); }
                catch (Exception e) when (!ReplicaFailure.IsConnectionLost(e)) { continue; }
                foreach (var m in list)
                {
                    n++;
                    if (m.Kind == EntryKind.Directory) pending.Push(m.RelativePath);
                }
            }
            return n;
        }
    }
}
