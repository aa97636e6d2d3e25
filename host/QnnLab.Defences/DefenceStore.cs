using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace QnnLab.Defences;

/// <summary>
/// Defence results in the attack store's SQLite file (a table of its own): one JSON value per key (a calibrated
/// threshold, one attack run's rates on one model), written as soon as it is computed, so an interrupted evaluation
/// resumes where it stopped and a threshold is computed once per model, settings and calibration set.
/// </summary>
public sealed class DefenceStore : IDisposable
{
    private readonly SqliteConnection _conn;

    public DefenceStore(string path)
    {
        _conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is string dir)
            {
                Directory.CreateDirectory(dir);
            }
            _conn.Open();
            using SqliteCommand c = _conn.CreateCommand();
            c.CommandText = """
                PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;
                CREATE TABLE IF NOT EXISTS defence_results(key TEXT PRIMARY KEY, value TEXT NOT NULL, created TEXT NOT NULL);
                """;
            c.ExecuteNonQuery();
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            _conn.Dispose();
            throw new IOException($"{path}: cannot open the result store: {e.Message}", e);
        }
    }

    public T? Get<T>(string key)
    {
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = "SELECT value FROM defence_results WHERE key = $k";
        c.Parameters.AddWithValue("$k", key);
        return c.ExecuteScalar() is string json ? JsonSerializer.Deserialize<T>(json) : default;
    }

    public void Put<T>(string key, T value)
    {
        using SqliteCommand c = _conn.CreateCommand();
        c.CommandText = "INSERT OR REPLACE INTO defence_results(key, value, created) VALUES ($k, $v, $c)";
        c.Parameters.AddWithValue("$k", key);
        c.Parameters.AddWithValue("$v", JsonSerializer.Serialize(value));
        c.Parameters.AddWithValue("$c", DateTime.UtcNow.ToString("O"));
        c.ExecuteNonQuery();
    }

    /// <summary>The stored value, else <paramref name="compute"/>'s, stored first.</summary>
    public T GetOrAdd<T>(string key, Func<T> compute)
    {
        if (Get<T>(key) is T known)
        {
            return known;
        }
        T v = compute();
        Put(key, v);
        return v;
    }

    public void Dispose() => _conn.Dispose();
}
