using System.Diagnostics;

namespace QnnLab.Cli;

/// <summary>
/// Progress on stderr: a self-overwriting line on a terminal, a plain line every few seconds when
/// redirected (CI logs), and always a final line, so stdout stays clean for --json.
/// </summary>
public sealed class ProgressReporter
{
    private readonly string _what;
    private readonly long _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _tty = !Console.IsErrorRedirected;
    private double _lastPrintSeconds = double.NegativeInfinity;
    private long _done;

    public ProgressReporter(string what, long total)
    {
        _what = what;
        _total = total;
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Report(long done, string detail = "")
    {
        _done = done;
        double every = _tty ? 0.2 : 5.0;
        double now = _clock.Elapsed.TotalSeconds;
        if (now - _lastPrintSeconds < every)
        {
            return;
        }
        _lastPrintSeconds = now;
        Print(detail, final: false);
    }

    public void Finish(string detail = "") => Print(detail, final: true);

    private void Print(string detail, bool final)
    {
        double secs = Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        string pct = _total > 0 ? $" ({100.0 * _done / _total:F0} %)" : "";
        string line = $"{_what}: {_done}/{_total}{pct}, {_done / secs:F0}/s, {_clock.Elapsed:hh\\:mm\\:ss}{(detail.Length > 0 ? ", " + detail : "")}";
        if (_tty)
        {
            Console.Error.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth > 0 ? Console.WindowWidth - 1 : 100, 160)));
            if (final)
            {
                Console.Error.WriteLine();
            }
        }
        else
        {
            Console.Error.WriteLine(line);
        }
    }
}
