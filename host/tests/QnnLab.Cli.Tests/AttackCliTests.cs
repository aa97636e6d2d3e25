using System.Runtime.InteropServices;
using System.Text.Json;
using QnnLab.Attacks.Targets;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.TestSupport;

namespace QnnLab.Cli.Tests;

/// <summary>
/// `qnnlab attack` on the paper's CIFAR-10 models: crafted on float, transferred to the int16 and int8 files; the
/// written examples re-scored independently give the reported figures; resume, capability errors, the STE target.
/// </summary>
[TestClass]
public sealed class AttackCliTests
{
    private const int N = 24;
    private const double Eps = 0.008;
    private static string _tmp = "";

    [ClassInitialize]
    public static void MakeTemp(TestContext _) => _tmp = TestData.TempDir();

    [ClassCleanup]
    public static void RemoveTemp() => TestData.RemoveTempDir(_tmp);

    private static string Cifar => "cifar10:" + Paths.Require("cifar10");

    private static string[] Pgd(string store, params string[] more) =>
    [
        "attack", "--attack", "pgd", "-m", Paths.Require(Paths.CifarFloatH5), "--data", Cifar, "--limit", $"{N}", "--batch", "8",
        "--set", "eps=0.008", "--set", "eps_step=0.002", "--set", "max_iter=5", "--seed", "3", "--store", store, "--json", .. more,
    ];

    private static JsonElement LastJson(CliRun r)
    {
        Assert.AreEqual(0, r.ExitCode, r.ToString());
        return JsonDocument.Parse(r.StdoutLines[^1]).RootElement.Clone();
    }

    [TestMethod]
    public async Task TransferredExamplesScoreOnTheIntegerModelsAsReportedAndStayInsideEps()
    {
        string store = Path.Combine(_tmp, "transfer.sqlite"), outDir = Path.Combine(_tmp, "transfer");
        string int16 = Paths.Require(Paths.CifarInt16), int8 = Paths.Require(Paths.CifarInt8);
        JsonElement j = LastJson(await CliHarness.RunAsync(Pgd(store, "--transfer-to", $"{int16},{int8}", "--out", outDir)));

        Assert.AreEqual("pgd", j.GetProperty("attack").GetString());
        Assert.AreEqual(N, j.GetProperty("n").GetInt32());
        Assert.AreEqual("float", j.GetProperty("crafted_on").GetString());
        foreach (string key in new[] { "clean_accuracy", "adversarial_accuracy", "l0", "l1", "l2", "linf" })
        {
            CollectionAssert.AreEquivalent(new[] { "float", "int16", "int8" },
                j.GetProperty(key).EnumerateObject().Select(p => p.Name).ToArray(), key);
        }
        Assert.IsGreaterThan(0.0, j.GetProperty("queries").GetDouble());
        Assert.IsLessThanOrEqualTo(Eps + 1e-6, j.GetProperty("linf").GetProperty("float").GetDouble(), "float sees x_adv itself");
        // int8 sees x_adv rounded to its pixel grid: at most half a step past eps
        Assert.IsLessThanOrEqualTo(Eps + (0.5 / 255) + 1e-6, j.GetProperty("linf").GetProperty("int8").GetDouble());

        NpyArray x = NpyReader.Read(Path.Combine(outDir, "x_adv.npy"));
        NpyArray y = NpyReader.Read(Path.Combine(outDir, "y.npy"));
        CollectionAssert.AreEqual(new[] { N, 32, 32, 3 }, x.Shape);
        CollectionAssert.AreEqual(new[] { N }, y.Shape);
        float[] adv = MemoryMarshal.Cast<byte, float>(x.Data).ToArray();
        long[] labels = MemoryMarshal.Cast<byte, long>(y.Data).ToArray();
        ImageSet clean = Cifar10.ReadBatch(Path.Combine(Paths.Require(Paths.CifarDir), "test_batch.bin"), N);
        CollectionAssert.AreEqual(clean.Labels.Select(l => (long)l).ToArray(), labels, "labels of the first N images");
        for (int i = 0; i < adv.Length; i++)
        {
            Assert.IsTrue(adv[i] is >= 0f and <= 1f, $"value {i} outside [0, 1]");
            Assert.IsLessThanOrEqualTo(Eps + 1e-6, Math.Abs(adv[i] - (clean.Pixels![i] / 255.0)), $"value {i} past eps");
        }

        // An independent re-score of the written examples on the int8 engine gives the reported adversarial accuracy.
        using var target = new IntegerTarget(ModelFiles.Load(int8));
        int[] got = target.Labels(adv, N);
        double robust = got.Zip(labels).Count(p => p.First == p.Second) / (double)N;
        Assert.AreEqual(robust, j.GetProperty("adversarial_accuracy").GetProperty("int8").GetDouble(), 1e-12);
        Assert.IsLessThan(j.GetProperty("clean_accuracy").GetProperty("float").GetDouble(),
            j.GetProperty("adversarial_accuracy").GetProperty("float").GetDouble(), "PGD lowered the float model's accuracy");

        string[] csv = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        Assert.HasCount(N + 1, csv);
        StringAssert.StartsWith(csv[0], "index,label,float_clean,float_adversarial");
        StringAssert.Contains(File.ReadAllText(Path.Combine(outDir, "summary.md")), $"N = {N} (first {N} images of {Cifar}), seed 3");

        // Resuming the finished run attacks nothing and reports the same figures.
        long run = j.GetProperty("run").GetInt64();
        JsonElement again = LastJson(await CliHarness.RunAsync(Pgd(store, "--resume", $"{run}")));
        Assert.AreEqual(run, again.GetProperty("run").GetInt64());
        Assert.AreEqual(j.GetProperty("adversarial_accuracy").ToString(), again.GetProperty("adversarial_accuracy").ToString());
        Assert.AreEqual(j.GetProperty("l2").ToString(), again.GetProperty("l2").ToString());
    }

    [TestMethod]
    public async Task AWhiteBoxAttackOnTheExactInt8EngineIsRefusedNamingWhatIsMissing()
    {
        CliRun r = await CliHarness.RunAsync("attack", "--attack", "deepfool", "-m", Paths.Require(Paths.CifarInt8), "--target", "int8",
            "--data", Cifar, "--limit", "2", "--store", Path.Combine(_tmp, "refused.sqlite"));
        Assert.AreNotEqual(0, r.ExitCode, r.ToString());
        Assert.AreEqual("", r.Stdout);
        StringAssert.Contains(r.Stderr, "attack 'deepfool' needs gradients that target 'int8' cannot give");
    }

    [TestMethod]
    public async Task ResumingWithAnotherModelIsRefused()
    {
        string store = Path.Combine(_tmp, "mismatch.sqlite");
        JsonElement j = LastJson(await CliHarness.RunAsync(Pgd(store)));
        CliRun r = await CliHarness.RunAsync("attack", "--attack", "pgd", "-m", Paths.Require(Paths.CifarInt8), "--data", Cifar,
            "--store", store, "--resume", $"{j.GetProperty("run").GetInt64()}");
        Assert.AreNotEqual(0, r.ExitCode, r.ToString());
        StringAssert.Contains(r.Stderr, "give the same --attack, --model and --data");
    }

    [TestMethod]
    public async Task PgdOnTheInt8QnnItselfThroughTheStraightThroughSurrogate()
    {
        JsonElement j = LastJson(await CliHarness.RunAsync("attack", "--attack", "pgd", "-m", Paths.Require(Paths.CifarInt8), "--target", "int8+ste",
            "--data", Cifar, "--limit", "16", "--set", "eps=0.016", "--set", "eps_step=0.004", "--set", "max_iter=5",
            "--store", Path.Combine(_tmp, "ste.sqlite"), "--json"));
        Assert.AreEqual("int8+ste", j.GetProperty("crafted_on").GetString());
        double clean = j.GetProperty("clean_accuracy").GetProperty("int8+ste").GetDouble();
        double adv = j.GetProperty("adversarial_accuracy").GetProperty("int8+ste").GetDouble();
        Assert.IsLessThan(clean, adv, "PGD through the surrogate lowered the exact engine's accuracy");
        Assert.IsLessThanOrEqualTo(0.016 + (0.5 / 255) + 1e-6, j.GetProperty("linf").GetProperty("int8+ste").GetDouble());
        Assert.IsGreaterThanOrEqualTo(5.0, j.GetProperty("gradient_queries").GetDouble(), "max_iter gradients per image");
    }

    [TestMethod]
    public async Task TransferToTheSimBoardAgreesWithTheInt8EngineOnEveryLogitAndResumesWithIt()
    {
        string store = Path.Combine(_tmp, "board.sqlite");
        string int8 = Paths.Require(Paths.CifarInt8);
        JsonElement j = LastJson(await CliHarness.RunAsync(Pgd(store, "--transfer-to", int8, "--board", "sim")));

        JsonElement board = j.GetProperty("board");
        Assert.AreEqual(2 * N, board.GetProperty("compared").GetInt64(), "clean and adversarial image of each of N");
        Assert.AreEqual(0, board.GetProperty("logit_mismatches").GetInt64());
        foreach (string key in new[] { "clean_accuracy", "adversarial_accuracy", "l0", "l2", "linf" })
        {
            Assert.AreEqual(j.GetProperty(key).GetProperty("int8").GetDouble(), j.GetProperty(key).GetProperty("board").GetDouble(), key);
        }
        Assert.IsLessThan(j.GetProperty("clean_accuracy").GetProperty("board").GetDouble(), j.GetProperty("adversarial_accuracy").GetProperty("board").GetDouble());

        // A resume rebuilds the board from the store (nothing left to attack: the board answers nothing new).
        JsonElement again = LastJson(await CliHarness.RunAsync(Pgd(store, "--resume", $"{j.GetProperty("run").GetInt64()}")));
        Assert.AreEqual(j.GetProperty("adversarial_accuracy").ToString(), again.GetProperty("adversarial_accuracy").ToString());
        Assert.AreEqual(0, again.GetProperty("board").GetProperty("compared").GetInt64());
    }

    [TestMethod]
    public async Task ABoardForAFloatModelWithoutAnIntegerFileIsRefusedNamingTheFix()
    {
        CliRun r = await CliHarness.RunAsync(Pgd(Path.Combine(_tmp, "noboardmodel.sqlite"), "--board", "sim"));
        Assert.AreNotEqual(0, r.ExitCode, r.ToString());
        StringAssert.Contains(r.Stderr, "--board-model FILE");
    }

    [TestMethod]
    public async Task SquareLinfWithTheSimBoardAsOracleWritesTheSameExamplesAsTheHostInt8Engine()
    {
        string int8 = Paths.Require(Paths.CifarInt8);
        string[] Square(string target, string name) =>
        [
            "attack", "--attack", "square-linf", "-m", int8, "--target", target, "--board", "sim", "--data", Cifar, "--limit", "6", "--batch", "3",
            "--set", "max_iter=25", "--seed", "5", "--store", Path.Combine(_tmp, name + ".sqlite"), "--out", Path.Combine(_tmp, name), "--json",
        ];
        JsonElement host = LastJson(await CliHarness.RunAsync(Square("int8", "oracle-host")));
        JsonElement board = LastJson(await CliHarness.RunAsync(Square("board", "oracle-board")));

        StringAssert.StartsWith(board.GetProperty("crafted_on").GetString(), "board:sim=");
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(_tmp, "oracle-host", "x_adv.npy")), File.ReadAllBytes(Path.Combine(_tmp, "oracle-board", "x_adv.npy")),
            "the board oracle produced other adversarial examples than the host engine");
        Assert.AreEqual(host.GetProperty("queries").GetDouble(), board.GetProperty("queries").GetDouble(), "queries per image");
        Assert.AreEqual(host.GetProperty("adversarial_accuracy").GetProperty("int8").GetDouble(), board.GetProperty("adversarial_accuracy").GetProperty("board").GetDouble());
        Assert.AreEqual(0, board.GetProperty("board").GetProperty("logit_mismatches").GetInt64());
        Assert.IsGreaterThan(0, board.GetProperty("board").GetProperty("compared").GetInt64());
    }

    [TestMethod]
    public async Task SeveralSimBoardsShareTheBatchesAndOneThatDiesHasItsBatchFinishedByTheOther()
    {
        string int8 = Paths.Require(Paths.CifarInt8);
        string[] Square(string boards, string name, params string[] more) =>
        [
            "attack", "--attack", "square-linf", "-m", int8, "--target", "board", "--boards", boards, "--data", Cifar, "--limit", "12", "--batch", "3",
            "--set", "max_iter=10", "--seed", "7", "--store", Path.Combine(_tmp, name + ".sqlite"), "--out", Path.Combine(_tmp, name), "--json", .. more,
        ];
        JsonElement one = LastJson(await CliHarness.RunAsync(Square("sim", "boards-1")));
        JsonElement two = LastJson(await CliHarness.RunAsync(Square("sim,sim", "boards-2")));
        // board 2 leaves after 12 inferences: inside its first batch of 3 images (each asked at least twice)
        CliRun dying = await CliHarness.RunAsync(Square("sim,sim", "boards-dying", "--board-faults", "2:die=12"));
        JsonElement died = LastJson(dying);

        byte[] Examples(string name) => File.ReadAllBytes(Path.Combine(_tmp, name, "x_adv.npy"));
        CollectionAssert.AreEqual(Examples("boards-1"), Examples("boards-2"), "two boards made other examples than one");
        CollectionAssert.AreEqual(Examples("boards-1"), Examples("boards-dying"), "the re-queued batch came out differently");
        foreach (JsonElement j in new[] { one, two, died })
        {
            Assert.AreEqual(12, j.GetProperty("n").GetInt32());
            Assert.AreEqual(0, j.GetProperty("board").GetProperty("logit_mismatches").GetInt64());
            Assert.AreEqual(one.GetProperty("adversarial_accuracy").GetProperty("board").GetDouble(), j.GetProperty("adversarial_accuracy").GetProperty("board").GetDouble());
        }
        Dictionary<string, int> Rows(JsonElement j) => j.GetProperty("board").GetProperty("rows").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        CollectionAssert.AreEquivalent(new Dictionary<string, int> { ["sim#1"] = 12 }, Rows(one));
        Dictionary<string, int> shared = Rows(two);
        Assert.AreEqual(12, shared.Values.Sum());
        Assert.IsGreaterThan(0, shared.GetValueOrDefault("sim#1"), "board 1 answered no row");
        Assert.IsGreaterThan(0, shared.GetValueOrDefault("sim#2"), "board 2 answered no row");
        CollectionAssert.AreEquivalent(new Dictionary<string, int> { ["sim#1"] = 12 }, Rows(died), "board 2 died inside its first batch: board 1 answered every row");
        StringAssert.Contains(dying.Stderr, "board sim#2 failed on images");
        StringAssert.Contains(dying.Stderr, "process exited");
        // which board answered each row is in the store and the CSV
        string[] csv = File.ReadAllLines(Path.Combine(_tmp, "boards-2", "results.csv"));
        StringAssert.EndsWith(csv[0], ",board");
        CollectionAssert.AreEquivalent(new[] { "sim#1", "sim#2" }, csv.Skip(1).Select(l => l[(l.LastIndexOf(',') + 1)..]).Distinct().ToArray());
    }
}
