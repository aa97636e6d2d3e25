using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace QnnLab.Attacks.Runs;

/// <summary>
/// What a shard of an experiment ran: the config (name and hash of its text), which shard of how many, the code
/// version, and the hash of every model file it names. Shards merge only when all of this agrees.
/// </summary>
/// <param name="Limit">The shards' --limit (null: the config's own numbers).</param>
/// <param name="Attacks">The shards' --attacks (null: every run of the config).</param>
public sealed record ShardInfo(string Config, string ConfigSha256, int Shard, int Shards, string Version, IReadOnlyDictionary<string, string> Models,
    int? Limit, string[]? Attacks)
{
    /// <summary>The fields merged shards must share (everything but the shard number).</summary>
    public string Identity => $"{Config} {ConfigSha256} shards={Shards} version={Version} limit={Limit} attacks={(Attacks is null ? "all" : string.Join(',', Attacks))} " +
        $"models={string.Join(",", Models.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"))}";
}

/// <summary>
/// Shard manifests in an attack store, and the merge of shard stores into one: every run of every shard (runs are
/// matched by their full configuration), every image result copied once. A merge refuses shards of other configs,
/// models or code versions, a repeated or missing shard number, and two shards recording the same image of a run.
/// </summary>
public static class ShardStores
{
    private const string Table = "CREATE TABLE IF NOT EXISTS experiment_shard(id INTEGER PRIMARY KEY CHECK (id = 1), info TEXT NOT NULL)";

    public static void Record(string storePath, ShardInfo info)
    {
        using SqliteConnection conn = Open(storePath);
        ShardInfo? old = Read(conn);
        if (old is not null && (old.Identity != info.Identity || old.Shard != info.Shard))
        {
            throw new ArgumentException($"{storePath}: holds shard {old.Shard}/{old.Shards} of {old.Config}; this is shard {info.Shard}/{info.Shards} " +
                $"of {info.Config}: give each shard its own store");
        }
        using SqliteCommand c = conn.CreateCommand();
        c.CommandText = "INSERT OR REPLACE INTO experiment_shard(id, info) VALUES (1, $i)";
        c.Parameters.AddWithValue("$i", JsonSerializer.Serialize(info));
        c.ExecuteNonQuery();
    }

    public static ShardInfo? Get(string storePath)
    {
        using SqliteConnection conn = Open(storePath);
        return Read(conn);
    }

    private static SqliteConnection Open(string path)
    {
        var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        conn.Open();
        using SqliteCommand c = conn.CreateCommand();
        c.CommandText = Table;
        c.ExecuteNonQuery();
        return conn;
    }

    private static ShardInfo? Read(SqliteConnection conn)
    {
        using SqliteCommand c = conn.CreateCommand();
        c.CommandText = "SELECT info FROM experiment_shard WHERE id = 1";
        return c.ExecuteScalar() is string json ? JsonSerializer.Deserialize<ShardInfo>(json) : null;
    }

    /// <summary>What a merge did: runs and image results written, and runs still missing images (a shard not run to the end).</summary>
    public sealed record MergeResult(ShardInfo Info, int Runs, int Results, IReadOnlyList<string> Incomplete);

    /// <summary>Merges shard stores into <paramref name="outPath"/> (which must not hold runs yet).</summary>
    public static MergeResult Merge(IReadOnlyList<string> stores, string outPath)
    {
        if (stores.Count == 0)
        {
            throw new ArgumentException("no shard stores to merge");
        }
        var infos = new List<(string Path, ShardInfo Info)>();
        foreach (string s in stores)
        {
            if (!File.Exists(s))
            {
                throw new FileNotFoundException($"{s}: no such shard store");
            }
            infos.Add((s, Get(s) ?? throw new InvalidDataException($"{s}: not a shard store (no manifest of `qnnlab experiment --shard`)")));
        }
        ShardInfo first = infos[0].Info;
        foreach ((string path, ShardInfo info) in infos.Skip(1))
        {
            if (info.Identity != first.Identity)
            {
                throw new InvalidDataException($"{path}: shard {info.Shard}/{info.Shards} of another experiment than {infos[0].Path}: {Difference(first, info)}");
            }
        }
        int[] seen = [.. infos.Select(x => x.Info.Shard).Order()];
        if (!seen.SequenceEqual(Enumerable.Range(1, first.Shards)))
        {
            var missing = Enumerable.Range(1, first.Shards).Except(seen).ToArray();
            var repeated = seen.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
            throw new InvalidDataException($"shards of {first.Config}: expected 1..{first.Shards} once each" +
                (missing.Length > 0 ? $"; missing {string.Join(", ", missing)}" : "") + (repeated.Length > 0 ? $"; repeated {string.Join(", ", repeated)}" : ""));
        }
        using var output = new AttackStore(outPath);
        if (output.Runs().Count > 0)
        {
            throw new ArgumentException($"{outPath}: already holds attack runs; merge into a new file");
        }
        var runIds = new Dictionary<AttackRunInfo, long>();
        var recorded = new Dictionary<long, HashSet<int>>();
        int results = 0;
        foreach ((string path, ShardInfo info) in infos.OrderBy(x => x.Info.Shard))
        {
            using var shard = new AttackStore(path);
            foreach (AttackRunInfo run in shard.Runs())
            {
                AttackRunInfo key = run with { Id = 0, Status = "" };
                if (!runIds.TryGetValue(key, out long id))
                {
                    runIds[key] = id = output.CreateRun(key);
                    recorded[id] = [];
                }
                IReadOnlyList<AttackImageResult> batch = shard.Results(run.Id);
                foreach (AttackImageResult r in batch)
                {
                    if (!recorded[id].Add(r.Index))
                    {
                        throw new InvalidDataException($"{path}: image {r.Index} of {run.Attack} on {run.CraftTarget} is in two shards; shards must not overlap");
                    }
                }
                output.AddBatch(id, batch);
                results += batch.Count;
            }
        }
        var incomplete = new List<string>();
        foreach ((AttackRunInfo key, long id) in runIds)
        {
            bool complete = recorded[id].Count == key.Total;
            output.SetStatus(id, complete ? "done" : "partial");
            if (!complete)
            {
                incomplete.Add($"{key.Attack} on {key.CraftTarget}: {recorded[id].Count} of {key.Total} images");
            }
        }
        return new MergeResult(first with { Shard = 0 }, runIds.Count, results, incomplete);
    }

    private static string Difference(ShardInfo a, ShardInfo b)
    {
        var d = new List<string>();
        if (a.Config != b.Config || a.ConfigSha256 != b.ConfigSha256)
        {
            d.Add($"config {b.Config} ({b.ConfigSha256[..12]}) vs {a.Config} ({a.ConfigSha256[..12]})");
        }
        if (a.Limit != b.Limit || !(a.Attacks ?? []).SequenceEqual(b.Attacks ?? []))
        {
            d.Add($"--limit {b.Limit} --attacks {string.Join(',', b.Attacks ?? [])} vs --limit {a.Limit} --attacks {string.Join(',', a.Attacks ?? [])}");
        }
        if (a.Shards != b.Shards)
        {
            d.Add($"{b.Shards} shards vs {a.Shards}");
        }
        if (a.Version != b.Version)
        {
            d.Add($"qnnlab {b.Version} vs {a.Version}");
        }
        foreach (string m in a.Models.Keys.Union(b.Models.Keys).Order(StringComparer.Ordinal))
        {
            string? x = a.Models.GetValueOrDefault(m), y = b.Models.GetValueOrDefault(m);
            if (x != y)
            {
                d.Add($"model {m} {y?[..12] ?? "absent"} vs {x?[..12] ?? "absent"}");
            }
        }
        return string.Join("; ", d);
    }
}
