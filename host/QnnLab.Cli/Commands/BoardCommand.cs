using System.CommandLine;
using System.Globalization;
using QnnLab.Hil;
using QnnLab.Protocol;

namespace QnnLab.Cli;

/// <summary>`qnnlab board list | info | flash`: find boards, show what one reports, program the NUCLEO.</summary>
public static class BoardCommand
{
    public static Command Create()
    {
        var cmd = new Command("board", "Boards: list candidates, show what a board reports, flash the NUCLEO-L552ZE-Q");
        cmd.Subcommands.Add(List());
        cmd.Subcommands.Add(Info());
        cmd.Subcommands.Add(BoardFlashCommand.Create());
        return cmd;
    }

    private static Command List()
    {
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("list", "USB serial ports (ST-LINK, vendor id 0483, first) and the sim and qemu boards") { json };
        cmd.SetAction(parse =>
        {
            IReadOnlyList<BoardCandidate> all = BoardDiscovery.All();
            Console.WriteLine("| --board | kind | usable | detail |");
            Console.WriteLine("|---|---|---|---|");
            foreach (BoardCandidate c in all)
            {
                string detail = c.Serial is null ? c.Detail : $"{c.Detail} (serial {c.Serial})";
                Console.WriteLine($"| {c.Board} | {c.Kind} | {(c.Available ? "yes" : "no")} | {detail} |");
            }
            if (!all.Any(c => c.IsStLink))
            {
                Console.WriteLine("no ST-LINK serial port found (a NUCLEO shows up as /dev/ttyACMn with USB id 0483:374e)");
            }
            if (parse.GetValue(json))
            {
                JsonOutput.Print(new Dictionary<string, object?>
                {
                    ["boards"] = all.Select(c => new Dictionary<string, object?>
                    {
                        ["board"] = c.Board,
                        ["kind"] = c.Kind,
                        ["available"] = c.Available,
                        ["detail"] = c.Detail,
                        ["vendor_id"] = c.VendorId,
                        ["product_id"] = c.ProductId,
                        ["serial"] = c.Serial,
                    }).ToList(),
                });
            }
            return 0;
        });
        return cmd;
    }

    private static Command Info()
    {
        Option<string> board = HilCommand.Board();
        Option<int?> baud = HilCommand.Baud();
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("info", "Start or open a board and print what it reports: protocol limits, clock, timing unit, models it holds")
        {
            board, baud, json,
        };
        cmd.SetAction(async (parse, cancel) =>
        {
            BoardTarget target = BoardTarget.Parse(parse.GetValue(board)!);
            return await HilCommand.Guard(async () =>
            {
                await using BoardSession s = await BoardSession.OpenAsync(target, new BoardLaunchOptions { Baud = parse.GetValue(baud) }, cancel)
                    .ConfigureAwait(false);
                BoardInfo info = await s.Connection.GetInfoAsync(cancel).ConfigureAwait(false);
                HelloInfo h = s.Connection.Hello;
                Print(s, h, info);
                if (parse.GetValue(json))
                {
                    JsonOutput.Print(ToJson(s, h, info));
                }
                return 0;
            }).ConfigureAwait(false);
        });
        return cmd;
    }

    private static void Print(BoardSession s, HelloInfo h, BoardInfo info)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"board    {info.Board} ({s.LinkDescription})");
        Console.WriteLine($"backend  {info.Backend}, build {info.BuildId}");
        string clock = info.ClockHz == 0 ? "none reported (host time)" : string.Create(inv, $"{info.ClockHz / 1e6:F1} MHz");
        Console.WriteLine($"clock    {clock}; timing in {HilRunner.UnitName(info.TimingUnit)} (resolution {info.TimingResolution})");
        Console.WriteLine(string.Create(inv,
            $"protocol v{h.ProtocolVersion}: max payload {h.MaxPayload} B, {h.MaxInflight} in flight, {h.CacheEntries} cached answers, boot id {h.BootId:x8}"));
        Console.WriteLine($"features {h.Capabilities}; arena {h.ArenaBytes} B; baud {(h.SupportedBauds.Length == 0 ? "none (pty)" : $"{h.CurrentBaud} of {string.Join(", ", h.SupportedBauds)}")}");
        Console.WriteLine(info.Models.Count == 0 ? "models   none held (hil run uploads one)" : $"models   {info.Models.Count}:");
        foreach (ModelDescriptor m in info.Models)
        {
            bool selected = info.SelectedModel is not null && m.Hash.AsSpan().SequenceEqual(info.SelectedModel);
            string precision = m.Precision == 1 ? "int8" : m.Precision == 2 ? "int16" : $"precision {m.Precision}";
            Console.WriteLine($"  {m.HashHex} {m.Name} {precision} {m.Height}x{m.Width}x{m.Channels} -> {m.OutputCount}, {m.BlobBytes} B{(selected ? " (selected)" : "")}");
        }
    }

    private static Dictionary<string, object?> ToJson(BoardSession s, HelloInfo h, BoardInfo info) => new()
    {
        ["board"] = info.Board,
        ["link"] = s.LinkDescription,
        ["backend"] = info.Backend,
        ["build_id"] = info.BuildId,
        ["clock_hz"] = info.ClockHz,
        ["timing_unit"] = HilRunner.UnitName(info.TimingUnit),
        ["timing_resolution"] = info.TimingResolution,
        ["protocol_version"] = h.ProtocolVersion,
        ["max_payload"] = h.MaxPayload,
        ["max_inflight"] = h.MaxInflight,
        ["cache_entries"] = h.CacheEntries,
        ["boot_id"] = h.BootId,
        ["capabilities"] = h.Capabilities.ToString(),
        ["arena_bytes"] = h.ArenaBytes,
        ["current_baud"] = h.CurrentBaud,
        ["supported_bauds"] = h.SupportedBauds,
        ["models"] = info.Models.Select(m => new Dictionary<string, object?>
        {
            ["hash"] = m.HashHex,
            ["name"] = m.Name,
            ["precision"] = m.Precision,
            ["input"] = new[] { m.Height, m.Width, m.Channels },
            ["outputs"] = m.OutputCount,
            ["blob_bytes"] = m.BlobBytes,
        }).ToList(),
    };
}
