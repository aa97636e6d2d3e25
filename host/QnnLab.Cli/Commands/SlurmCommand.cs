using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab experiment slurm`: an experiment as a Slurm array job (one task per shard, each with its own store) and a
/// merge job that runs after every task succeeded (`--dependency=afterok`). Slurm schedules; we only write its
/// scripts, and with --submit hand them to sbatch.
/// </summary>
public static class SlurmCommand
{
    public static Command Create()
    {
        Option<string> config = new("--config", "-c") { Description = "Experiment config (JSON)", Required = true };
        Option<int> shards = new("--shards") { Description = "Array tasks (shards)", Required = true };
        Option<string> outDir = new("--out", "-o") { Description = "Folder for the scripts, the shard stores, the merged store and the tables (on a file system every node sees)", DefaultValueFactory = _ => "qnnlab-out/slurm" };
        Option<string?> partition = new("--partition") { Description = "Slurm partition (sbatch --partition)" };
        Option<string> time = new("--time") { Description = "Time limit per task (sbatch --time)", DefaultValueFactory = _ => "04:00:00" };
        Option<int> cpus = new("--cpus") { Description = "CPUs per task (sbatch --cpus-per-task)", DefaultValueFactory = _ => 2 };
        Option<int?> limit = new("--limit", "-n") { Description = "Passed to every shard (experiment --limit)" };
        Option<string?> attacks = new("--attacks") { Description = "Passed to every shard (experiment --attacks)" };
        Option<string?> qnnlab = new("--qnnlab") { Description = "The command that runs qnnlab on the nodes (default: this checkout's ./qnnlab)" };
        Option<bool> submit = new("--submit") { Description = "Submit both jobs with sbatch (the merge depends on the array)" };
        var cmd = new Command("slurm", "Write (and with --submit, submit) a Slurm array job running the experiment in shards, and a dependent merge job")
        {
            config, shards, outDir, partition, time, cpus, limit, attacks, qnnlab, submit,
        };
        cmd.SetAction((parse, cancel) =>
        {
            var s = new Settings(Path.GetFullPath(parse.GetValue(config)!), parse.GetValue(shards), Path.GetFullPath(parse.GetValue(outDir)!),
                parse.GetValue(partition), parse.GetValue(time)!, parse.GetValue(cpus), parse.GetValue(limit), parse.GetValue(attacks),
                parse.GetValue(qnnlab) ?? DefaultQnnlab());
            (string array, string merge) = Write(s);
            Console.WriteLine($"slurm: wrote {array} ({s.Shards} tasks) and {merge}");
            if (parse.GetValue(submit))
            {
                string id = Sbatch("--parsable", array).Split(';')[0].Trim();
                string mergeId = Sbatch("--parsable", $"--dependency=afterok:{id}", merge).Split(';')[0].Trim();
                Console.WriteLine($"slurm: submitted array job {id} and merge job {mergeId}");
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    public sealed record Settings(string Config, int Shards, string Out, string? Partition, string Time, int Cpus, int? Limit, string? Attacks, string Qnnlab)
    {
        public string Name => Path.GetFileNameWithoutExtension(Config);

        public string Store(string shard) => Path.Combine(Out, $"shard-{shard}.sqlite");
    }

    private static string DefaultQnnlab()
    {
        string here = Path.GetFullPath("qnnlab");
        return File.Exists(here) ? here : "qnnlab";
    }

    /// <summary>The array script and the merge script; returns their paths.</summary>
    public static (string Array, string Merge) Write(Settings s)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(s.Shards, 1, "--shards");
        ArgumentOutOfRangeException.ThrowIfLessThan(s.Cpus, 1, "--cpus");
        if (!File.Exists(s.Config))
        {
            throw new FileNotFoundException($"{s.Config}: no such experiment config");
        }
        Directory.CreateDirectory(s.Out);
        string extra = (s.Limit is int n ? $" --limit {n.ToString(CultureInfo.InvariantCulture)}" : "") + (s.Attacks is string a ? $" --attacks {Quote(a)}" : "");
        string Header(string job, string log) => new StringBuilder("#!/bin/bash\n")
            .Append(CultureInfo.InvariantCulture, $"#SBATCH --job-name={job}\n")
            .Append(CultureInfo.InvariantCulture, $"#SBATCH --time={s.Time}\n")
            .Append(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={s.Cpus}\n")
            .Append(s.Partition is string p ? $"#SBATCH --partition={p}\n" : "")
            .Append(CultureInfo.InvariantCulture, $"#SBATCH --output={Path.Combine(s.Out, log)}\n")
            .ToString();

        var array = new StringBuilder(Header($"qnnlab-{s.Name}", "shard-%a.log"))
            .Append(CultureInfo.InvariantCulture, $"#SBATCH --array=1-{s.Shards}\n")
            .Append("# Written by `qnnlab experiment slurm`: one shard of the experiment per array task, each into its own store.\n")
            .Append("set -euo pipefail\n")
            .Append(CultureInfo.InvariantCulture, $"export OMP_NUM_THREADS=${{SLURM_CPUS_PER_TASK:-{s.Cpus}}}\n")
            // the engine threads the allocation gives (all the node's cores would oversubscribe a shared node)
            .Append(CultureInfo.InvariantCulture, $"exec {Quote(s.Qnnlab)} experiment --config {Quote(s.Config)} --shard \"$SLURM_ARRAY_TASK_ID/{s.Shards}\" --threads \"$OMP_NUM_THREADS\" ")
            .Append(CultureInfo.InvariantCulture, $"--store {Quote(Path.Combine(s.Out, "shard-"))}\"$SLURM_ARRAY_TASK_ID\".sqlite --out {Quote(Path.Combine(s.Out, "shard-"))}\"$SLURM_ARRAY_TASK_ID\"{extra}\n")
            .ToString();
        string stores = string.Join(',', Enumerable.Range(1, s.Shards).Select(k => s.Store(k.ToString(CultureInfo.InvariantCulture))));
        var merge = new StringBuilder(Header($"qnnlab-{s.Name}-merge", "merge.log"))
            .Append("# Written by `qnnlab experiment slurm`: runs after every array task succeeded (sbatch --dependency=afterok).\n")
            .Append("set -euo pipefail\n")
            // a failed earlier merge leaves a store (and its WAL files) the merge would refuse
            .Append(CultureInfo.InvariantCulture, $"rm -f {Quote(Path.Combine(s.Out, "merged.sqlite"))} {Quote(Path.Combine(s.Out, "merged.sqlite-wal"))} {Quote(Path.Combine(s.Out, "merged.sqlite-shm"))}\n")
            .Append(CultureInfo.InvariantCulture, $"exec {Quote(s.Qnnlab)} experiment merge --stores {Quote(stores)} --out {Quote(Path.Combine(s.Out, "merged.sqlite"))} ")
            .Append(CultureInfo.InvariantCulture, $"--config {Quote(s.Config)} --tables {Quote(Path.Combine(s.Out, "tables"))}\n")
            .ToString();
        string arrayPath = Path.Combine(s.Out, s.Name + ".sbatch"), mergePath = Path.Combine(s.Out, s.Name + "-merge.sbatch");
        File.WriteAllText(arrayPath, array);
        File.WriteAllText(mergePath, merge);
        return (arrayPath, mergePath);
    }

    private static string Quote(string v) => "'" + v.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string Sbatch(params string[] args)
    {
        var psi = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException("sbatch: could not start");
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"sbatch {string.Join(' ', args)}: exit {p.ExitCode}: {stderr.Trim()}");
        }
        return stdout;
    }
}
