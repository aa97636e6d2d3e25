using System.Text.Json;

namespace QnnLab.Cli;

/// <summary>The one-object JSON line that --json prints last on stdout.</summary>
public static class JsonOutput
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };

    /// <summary>For JSON files a person may read.</summary>
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Print(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));
}
