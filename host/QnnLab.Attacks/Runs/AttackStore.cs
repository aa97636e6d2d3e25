using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace QnnLab.Attacks.Runs;

/// <summary>How one evaluated precision (float, int16, int8, board) saw one image.</summary>
public sealed record EvalOutcome(int CleanLabel, int AdversarialLabel, Distortion Distortion);

/// <summary>
/// One attacked image: its adversarial example and every evaluated precision's outcome; <paramref name="Board"/> is the
/// board that answered it (<c>sim#2</c>) when the run used boards.
/// </summary>
public sealed record AttackImageResult(int Index, int Label, float[] Adversarial, IReadOnlyDictionary<string, EvalOutcome> Evals, double Queries, double GradientQueries,
    string? Board = null);

/// <summary>What identifies an attack run: a resumed run must match it exactly.</summary>
public sealed record AttackRunInfo(long Id, string Attack, string Parameters, string CraftTarget, string Model, string Data, string Evals, int Seed, int Total, string Status);

/// <summary>
/// Attack runs in SQLite (the same file `hil run` uses, other tables): one row per attacked image with its adversarial
/// example, committed batch by batch, so a crash or Ctrl-C loses at most the batch under way and a resumed run
/// attacks only the images not yet recorded; (run, index) is the primary key, so none is recorded twice.
/// </summary>
public sealed class AttackStore : IDisposable
{
    private readonly SqliteConnection _conn;

    public AttackStore(string path)
    {
        _conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null)
            {
                Directory.CreateDirectory(dir);
            }
            _conn.Open();
            Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
            Exec("""
                CREATE TABLE IF NOT EXISTS attack_runs(
                    id INTEGER PRIMARY KEY AUTOINCREMENT, attack TEXT NOT NULL, parameters TEXT NOT NULL,
                    craft_target TEXT NOT NULL, model TEXT NOT NULL, data TEXT NOT NULL, evals TEXT NOT NULL,
                    seed INTEGER NOT NULL, total INTEGER NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS attack_results(
                    run_id INTEGER NOT NULL REFERENCES attack_runs(id), idx INTEGER NOT NULL, label INTEGER NOT NULL,
                    adversarial BLOB NOT NULL, evals TEXT NOT NULL, queries REAL NOT NULL, gradient_queries REAL NOT NULL,
                    PRIMARY KEY(run_id, idx)) WITHOUT ROWID;
                """);
            // Stores from before several boards shared a run: the column is added, their rows keep NULL (no board).
            if (!HasColumn("attack_results", "board"))
            {
                Exec("ALTER TABLE attack_results ADD COLUMN board TEXT");
            }
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            _conn.Dispose();
            throw new IOException($"{path}: cannot open the result store: {e.Message}", e);
        }
    }

    public long CreateRun(AttackRunInfo r)
    {
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = """
            INSERT INTO attack_runs(attack, parameters, craft_target, model, data, evals, seed, total, status, created)
            VALUES ($a, $p, $t, $m, $d, $e, $s, $n, 'running', $c); SELECT last_insert_rowid();
            """;
        c.Parameters.AddWithValue("$a", r.Attack);
        c.Parameters.AddWithValue("$p", r.Parameters);
        c.Parameters.AddWithValue("$t", r.CraftTarget);
        c.Parameters.AddWithValue("$m", r.Model);
        c.Parameters.AddWithValue("$d", r.Data);
        c.Parameters.AddWithValue("$e", r.Evals);
        c.Parameters.AddWithValue("$s", r.Seed);
        c.Parameters.AddWithValue("$n", r.Total);
        c.Parameters.AddWithValue("$c", DateTime.UtcNow.ToString("O"));
        return (long)c.ExecuteScalar()!;
    }

    private const string RunColumns = "SELECT id, attack, parameters, craft_target, model, data, evals, seed, total, status FROM attack_runs";

    public AttackRunInfo GetRun(long id)
    {
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = RunColumns + " WHERE id = $id";
        c.Parameters.AddWithValue("$id", id);
        using SqliteDataReader r = c.ExecuteReader();
        if (!r.Read())
        {
            throw new ArgumentException($"no attack run {id} in this store");
        }
        return ReadRun(r);
    }

    /// <summary>Every run of the store, oldest first.</summary>
    public IReadOnlyList<AttackRunInfo> Runs()
    {
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = RunColumns + " ORDER BY id";
        var runs = new List<AttackRunInfo>();
        using SqliteDataReader r = c.ExecuteReader();
        while (r.Read())
        {
            runs.Add(ReadRun(r));
        }
        return runs;
    }

    private static AttackRunInfo ReadRun(SqliteDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetInt32(7), r.GetInt32(8), r.GetString(9));

    public void SetStatus(long run, string status)
    {
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = "UPDATE attack_runs SET status = $s WHERE id = $id";
        c.Parameters.AddWithValue("$s", status);
        c.Parameters.AddWithValue("$id", run);
        c.ExecuteNonQuery();
    }

    /// <summary>Records a batch in one transaction (all or none of it survives a crash).</summary>
    public void AddBatch(long run, IReadOnlyList<AttackImageResult> batch)
    {
        using SqliteTransaction tx = _conn.BeginTransaction();
        foreach (AttackImageResult x in batch)
        {
            using SqliteCommand c = _conn.CreateCommand();
            c.Transaction = tx;
            c.CommandText = """
                INSERT OR IGNORE INTO attack_results(run_id, idx, label, adversarial, evals, queries, gradient_queries, board)
                VALUES ($r, $i, $l, $a, $e, $q, $g, $b)
                """;
            c.Parameters.AddWithValue("$r", run);
            c.Parameters.AddWithValue("$i", x.Index);
            c.Parameters.AddWithValue("$l", x.Label);
            c.Parameters.AddWithValue("$a", System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.Adversarial.AsSpan()).ToArray());
            c.Parameters.AddWithValue("$e", JsonSerializer.Serialize(x.Evals));
            c.Parameters.AddWithValue("$q", x.Queries);
            c.Parameters.AddWithValue("$g", x.GradientQueries);
            c.Parameters.AddWithValue("$b", (object?)x.Board ?? DBNull.Value);
            c.ExecuteNonQuery();
        }
        tx.Commit();
    }

    public IReadOnlyList<AttackImageResult> Results(long run)
    {
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = "SELECT idx, label, adversarial, evals, queries, gradient_queries, board FROM attack_results WHERE run_id = $r ORDER BY idx";
        c.Parameters.AddWithValue("$r", run);
        using SqliteDataReader r = c.ExecuteReader();
        var list = new List<AttackImageResult>();
        while (r.Read())
        {
            byte[] blob = (byte[])r[2];
            float[] adv = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(blob).ToArray();
            var evals = JsonSerializer.Deserialize<Dictionary<string, EvalOutcome>>(r.GetString(3))!;
            list.Add(new AttackImageResult(r.GetInt32(0), r.GetInt32(1), adv, evals, r.GetDouble(4), r.GetDouble(5), r.IsDBNull(6) ? null : r.GetString(6)));
        }
        return list;
    }

    private bool HasColumn(string table, string column)
    {
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = $c";
        c.Parameters.AddWithValue("$c", column);
        return (long)c.ExecuteScalar()! > 0;
    }

    private void Exec(string sql)
    {
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    public void Dispose() => _conn.Dispose();
}
