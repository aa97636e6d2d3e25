using System.Globalization;
using Microsoft.Data.Sqlite;

namespace QnnLab.Results;

/// <summary>
/// SQLite store of runs and per-input results. WAL mode and a commit every few results mean a killed
/// process loses at most the uncommitted tail, and (run, index) is the primary key, so a resumed or
/// retried input is never recorded twice.
/// </summary>
public sealed class ResultStore : IDisposable
{
    private readonly SqliteConnection _conn;
    private SqliteTransaction? _tx;
    private int _pending;

    /// <summary>Results are committed at least every this many inserts.</summary>
    public int CommitEvery { get; set; } = 32;

    public string Path { get; }

    public ResultStore(string path)
    {
        Path = path;
        _conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
            if (dir is not null)
            {
                Directory.CreateDirectory(dir);
            }
            _conn.Open();
            Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
            Exec(Schema);
            Migrate();
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            _conn.Dispose();
            throw new IOException($"{path}: cannot open the result store: {e.Message}", e);
        }
    }

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS runs(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL, board TEXT NOT NULL, model TEXT NOT NULL, model_hash TEXT NOT NULL,
            data TEXT NOT NULL, precision TEXT NOT NULL, squeeze TEXT NOT NULL, total INTEGER NOT NULL,
            timing_unit TEXT NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL, board_info TEXT NOT NULL,
            payload_bytes INTEGER NOT NULL DEFAULT 0, wire_bytes INTEGER NOT NULL DEFAULT 0,
            link_seconds REAL NOT NULL DEFAULT 0, baud INTEGER NOT NULL DEFAULT 0,
            retries INTEGER NOT NULL DEFAULT 0, resets INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS results(
            run_id INTEGER NOT NULL REFERENCES runs(id), idx INTEGER NOT NULL,
            label INTEGER NOT NULL, host_pred INTEGER NOT NULL, board_pred INTEGER NOT NULL,
            logits BLOB NOT NULL, t_squeeze INTEGER NOT NULL, t_infer INTEGER NOT NULL, t_total INTEGER NOT NULL,
            flagged INTEGER, detector_score INTEGER,
            PRIMARY KEY(run_id, idx)) WITHOUT ROWID;
        """;

    /// <summary>Stores written before a version get that version's tables on open; their old rows read as before.</summary>
    public const int SchemaVersion = 3;

    /// <summary>The results columns of the <see cref="Stages"/> (schema 3), in stage order: t_quantize, t_squeeze_bit_depth, ...</summary>
    private static readonly string[] StageColumns = Stages.Names.Select(n => "t_" + n).ToArray();

    private void Migrate()
    {
        using SqliteCommand v = _conn.CreateCommand();
        v.CommandText = "PRAGMA user_version";
        long version = (long)v.ExecuteScalar()!;
        if (version < 2)
        {
            // 2: resets the host made (protocol RESET, NRST through a bench GPIO) and energy per inference and stage
            Exec("""
                CREATE TABLE IF NOT EXISTS board_resets(
                    run_id INTEGER NOT NULL REFERENCES runs(id), recorded INTEGER NOT NULL,
                    kind TEXT NOT NULL, via TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL, time TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS energy(
                    run_id INTEGER NOT NULL REFERENCES runs(id), idx INTEGER NOT NULL, stage TEXT NOT NULL,
                    microjoules REAL NOT NULL, seconds REAL NOT NULL, samples INTEGER NOT NULL,
                    PRIMARY KEY(run_id, idx, stage)) WITHOUT ROWID;
                PRAGMA user_version = 2;
                """);
        }
        if (version < 3)
        {
            // 3: every stage of an inference apart (protocol v2); rows recorded before read -1 (not measured)
            var have = new HashSet<string>();
            using (SqliteCommand info = _conn.CreateCommand())
            {
                info.CommandText = "SELECT name FROM pragma_table_info('results')";
                using SqliteDataReader r = info.ExecuteReader();
                while (r.Read())
                {
                    have.Add(r.GetString(0));
                }
            }
            Exec(string.Concat(StageColumns.Where(c => !have.Contains(c)).Select(c => $"ALTER TABLE results ADD COLUMN {c} INTEGER NOT NULL DEFAULT -1;\n"))
                + "PRAGMA user_version = 3;");
        }
    }

    /// <summary>Records a reset the host made (or tried): protocol RESET, or a pulse on the board's NRST.</summary>
    public void AddBoardReset(long runId, BoardResetRecord r)
    {
        Flush();
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = "INSERT INTO board_resets(run_id, recorded, kind, via, outcome, reason, time) VALUES($id, $n, $k, $v, $o, $r, $t)";
        c.Parameters.AddWithValue("$id", runId);
        c.Parameters.AddWithValue("$n", r.Recorded);
        c.Parameters.AddWithValue("$k", r.Kind);
        c.Parameters.AddWithValue("$v", r.Via);
        c.Parameters.AddWithValue("$o", r.Outcome);
        c.Parameters.AddWithValue("$r", r.Reason);
        c.Parameters.AddWithValue("$t", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        c.ExecuteNonQuery();
    }

    public IReadOnlyList<BoardResetRecord> BoardResets(long runId)
    {
        Flush();
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = "SELECT recorded, kind, via, outcome, reason, time FROM board_resets WHERE run_id=$id ORDER BY rowid";
        c.Parameters.AddWithValue("$id", runId);
        using SqliteDataReader r = c.ExecuteReader();
        var list = new List<BoardResetRecord>();
        while (r.Read())
        {
            list.Add(new BoardResetRecord(r.GetInt32(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4)) { Time = r.GetString(5) });
        }
        return list;
    }

    /// <summary>Records an input's energy per stage, committed with the results (an input measured before keeps its first record).</summary>
    public void AddEnergy(long runId, int index, IEnumerable<EnergyRecord> stages)
    {
        _tx ??= _conn.BeginTransaction();
        foreach (EnergyRecord e in stages)
        {
            using SqliteCommand c = _conn.CreateCommand();
            c.Transaction = _tx;
            c.CommandText = """
                INSERT INTO energy(run_id, idx, stage, microjoules, seconds, samples) VALUES($id, $idx, $s, $uj, $sec, $n)
                ON CONFLICT(run_id, idx, stage) DO NOTHING
                """;
            c.Parameters.AddWithValue("$id", runId);
            c.Parameters.AddWithValue("$idx", index);
            c.Parameters.AddWithValue("$s", e.Stage);
            c.Parameters.AddWithValue("$uj", e.Microjoules);
            c.Parameters.AddWithValue("$sec", e.Seconds);
            c.Parameters.AddWithValue("$n", e.Samples);
            c.ExecuteNonQuery();
        }
    }

    public IReadOnlyList<(int Index, EnergyRecord Energy)> Energy(long runId)
    {
        Flush();
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = "SELECT idx, stage, microjoules, seconds, samples FROM energy WHERE run_id=$id ORDER BY idx, stage";
        c.Parameters.AddWithValue("$id", runId);
        using SqliteDataReader r = c.ExecuteReader();
        var list = new List<(int, EnergyRecord)>();
        while (r.Read())
        {
            list.Add((r.GetInt32(0), new EnergyRecord(r.GetString(1), r.GetDouble(2), r.GetDouble(3), r.GetInt32(4))));
        }
        return list;
    }

    public long CreateRun(RunInfo run)
    {
        Flush();
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = """
            INSERT INTO runs(kind, board, model, model_hash, data, precision, squeeze, total, timing_unit, status, created, board_info)
            VALUES($kind, $board, $model, $hash, $data, $precision, $squeeze, $total, $unit, 'running', $created, $info);
            SELECT last_insert_rowid();
            """;
        c.Parameters.AddWithValue("$kind", run.Kind);
        c.Parameters.AddWithValue("$board", run.Board);
        c.Parameters.AddWithValue("$model", run.Model);
        c.Parameters.AddWithValue("$hash", run.ModelHash);
        c.Parameters.AddWithValue("$data", run.Data);
        c.Parameters.AddWithValue("$precision", run.Precision);
        c.Parameters.AddWithValue("$squeeze", run.Squeeze);
        c.Parameters.AddWithValue("$total", run.Total);
        c.Parameters.AddWithValue("$unit", run.TimingUnit);
        c.Parameters.AddWithValue("$created", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        c.Parameters.AddWithValue("$info", run.BoardInfoJson);
        return (long)c.ExecuteScalar()!;
    }

    public RunInfo GetRun(long id) => ListRuns().FirstOrDefault(r => r.Id == id)
        ?? throw new ArgumentException($"{Path}: no run {id}");

    public IReadOnlyList<RunInfo> ListRuns()
    {
        Flush();
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = "SELECT id, kind, board, model, model_hash, data, precision, squeeze, total, timing_unit, status, created, board_info FROM runs ORDER BY id";
        using SqliteDataReader r = c.ExecuteReader();
        var list = new List<RunInfo>();
        while (r.Read())
        {
            list.Add(new RunInfo
            {
                Id = r.GetInt64(0),
                Kind = r.GetString(1),
                Board = r.GetString(2),
                Model = r.GetString(3),
                ModelHash = r.GetString(4),
                Data = r.GetString(5),
                Precision = r.GetString(6),
                Squeeze = r.GetString(7),
                Total = r.GetInt32(8),
                TimingUnit = r.GetString(9),
                Status = r.GetString(10),
                Created = r.GetString(11),
                BoardInfoJson = r.GetString(12),
            });
        }
        return list;
    }

    public void SetStatus(long runId, string status)
    {
        Flush();
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = "UPDATE runs SET status=$s WHERE id=$id";
        c.Parameters.AddWithValue("$s", status);
        c.Parameters.AddWithValue("$id", runId);
        c.ExecuteNonQuery();
    }

    /// <summary>Adds this session's link traffic to the run's totals.</summary>
    public void AddLinkStats(long runId, LinkStats s)
    {
        Flush();
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = """
            UPDATE runs SET payload_bytes = payload_bytes + $p, wire_bytes = wire_bytes + $w, link_seconds = link_seconds + $s,
                baud = $b, retries = retries + $r, resets = resets + $x WHERE id = $id
            """;
        c.Parameters.AddWithValue("$p", s.PayloadBytes);
        c.Parameters.AddWithValue("$w", s.WireBytes);
        c.Parameters.AddWithValue("$s", s.Seconds);
        c.Parameters.AddWithValue("$b", s.Baud);
        c.Parameters.AddWithValue("$r", s.Retries);
        c.Parameters.AddWithValue("$x", s.Resets);
        c.Parameters.AddWithValue("$id", runId);
        c.ExecuteNonQuery();
    }

    public LinkStats GetLinkStats(long runId)
    {
        Flush();
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = "SELECT payload_bytes, wire_bytes, link_seconds, baud, retries, resets FROM runs WHERE id=$id";
        c.Parameters.AddWithValue("$id", runId);
        using SqliteDataReader r = c.ExecuteReader();
        if (!r.Read())
        {
            throw new ArgumentException($"{Path}: no run {runId}");
        }
        return new LinkStats(r.GetInt64(0), r.GetInt64(1), r.GetDouble(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5));
    }

    /// <summary>Records one result. Returns false (and changes nothing) if that input was already recorded.</summary>
    public bool Add(long runId, InputResult x)
    {
        _tx ??= _conn.BeginTransaction();
        using SqliteCommand c = _conn.CreateCommand();
        c.Transaction = _tx;
        c.CommandText = $"""
            INSERT INTO results(run_id, idx, label, host_pred, board_pred, logits, t_squeeze, t_infer, t_total, flagged, detector_score, {string.Join(", ", StageColumns)})
            VALUES($run, $idx, $label, $host, $board, $logits, $ts, $ti, $tt, $flag, $score, {string.Join(", ", StageColumns.Select((_, i) => "$s" + i))})
            ON CONFLICT(run_id, idx) DO NOTHING
            """;
        c.Parameters.AddWithValue("$run", runId);
        c.Parameters.AddWithValue("$idx", x.Index);
        c.Parameters.AddWithValue("$label", x.Label);
        c.Parameters.AddWithValue("$host", x.HostPrediction);
        c.Parameters.AddWithValue("$board", x.BoardPrediction);
        c.Parameters.AddWithValue("$logits", x.Logits);
        c.Parameters.AddWithValue("$ts", x.SqueezeTime);
        c.Parameters.AddWithValue("$ti", x.InferenceTime);
        c.Parameters.AddWithValue("$tt", x.TotalTime);
        c.Parameters.AddWithValue("$flag", x.Flagged is bool f ? (f ? 1 : 0) : DBNull.Value);
        c.Parameters.AddWithValue("$score", x.DetectorScore is int s ? s : DBNull.Value);
        if (x.StageTimes.Length is not (0 or Stages.Count))
        {
            throw new ArgumentException($"input {x.Index}: {x.StageTimes.Length} stage times, not {Stages.Count}");
        }
        for (int i = 0; i < Stages.Count; i++)
        {
            c.Parameters.AddWithValue("$s" + i, x.StageTimes.Length == 0 ? -1 : x.StageTimes[i]);
        }
        bool added = c.ExecuteNonQuery() == 1;
        if (++_pending >= CommitEvery)
        {
            Flush();
        }
        return added;
    }

    /// <summary>Commits pending results.</summary>
    public void Flush()
    {
        if (_tx is not null)
        {
            _tx.Commit();
            _tx.Dispose();
            _tx = null;
        }
        _pending = 0;
    }

    /// <summary>Indices already recorded for a run (what a resume skips).</summary>
    public HashSet<int> RecordedIndices(long runId)
    {
        Flush();
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = "SELECT idx FROM results WHERE run_id=$id";
        c.Parameters.AddWithValue("$id", runId);
        using SqliteDataReader r = c.ExecuteReader();
        var set = new HashSet<int>();
        while (r.Read())
        {
            set.Add(r.GetInt32(0));
        }
        return set;
    }

    public IReadOnlyList<InputResult> Results(long runId)
    {
        Flush();
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = $"SELECT idx, label, host_pred, board_pred, logits, t_squeeze, t_infer, t_total, flagged, detector_score, {string.Join(", ", StageColumns)} FROM results WHERE run_id=$id ORDER BY idx";
        c.Parameters.AddWithValue("$id", runId);
        using SqliteDataReader r = c.ExecuteReader();
        var list = new List<InputResult>();
        while (r.Read())
        {
            list.Add(new InputResult
            {
                Index = r.GetInt32(0),
                Label = r.GetInt32(1),
                HostPrediction = r.GetInt32(2),
                BoardPrediction = r.GetInt32(3),
                Logits = (byte[])r.GetValue(4),
                SqueezeTime = r.GetInt64(5),
                InferenceTime = r.GetInt64(6),
                TotalTime = r.GetInt64(7),
                Flagged = r.IsDBNull(8) ? null : r.GetInt32(8) != 0,
                DetectorScore = r.IsDBNull(9) ? null : r.GetInt32(9),
                StageTimes = r.GetInt64(10) < 0 ? [] : Enumerable.Range(10, Stages.Count).Select(r.GetInt64).ToArray(),
            });
        }
        return list;
    }

    private void Exec(string sql)
    {
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    public void Dispose()
    {
        try
        {
            Flush();
        }
        finally
        {
            _conn.Dispose();
        }
    }
}
