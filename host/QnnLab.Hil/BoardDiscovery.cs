using System.Globalization;

namespace QnnLab.Hil;

/// <summary>A board `qnnlab board list` offers: a USB serial port (an ST-LINK's virtual COM port or another), the sim or QEMU.</summary>
/// <param name="Board">What --board takes: "sim", "qemu" or the port's path.</param>
/// <param name="Available">False when something it needs is missing (Detail says what).</param>
public sealed record BoardCandidate(string Board, string Kind, bool Available, string Detail, string? VendorId = null, string? ProductId = null,
    string? Serial = null)
{
    public bool IsStLink => string.Equals(VendorId, BoardDiscovery.StLinkVendorId, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Finds boards: serial ports whose USB device carries ST's vendor id (the NUCLEO's ST-LINK virtual COM port),
/// read from sysfs (/sys/class/tty/NAME/device, then up the device tree to the USB device's idVendor and
/// idProduct), plus the sim and QEMU pseudo-boards. The sysfs root is a parameter so tests use a fake tree.
/// </summary>
public static class BoardDiscovery
{
    public const string StLinkVendorId = "0483";

    /// <summary>ST-LINK product ids with a virtual COM port (V2-1, V3 variants; the NUCLEO-L552ZE-Q has a V3E, 374e).</summary>
    public static readonly IReadOnlyDictionary<string, string> StLinkProducts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["374b"] = "ST-LINK/V2-1",
        ["374e"] = "STLINK-V3E",
        ["374f"] = "STLINK-V3",
        ["3752"] = "ST-LINK/V2-1",
        ["3753"] = "STLINK-V3",
        ["3754"] = "STLINK-V3",
    };

    /// <summary>USB serial ports under a sysfs root (ST-LINK first), each with the vendor/product ids of its USB device.</summary>
    public static IReadOnlyList<BoardCandidate> UsbSerialPorts(string sysRoot = "/sys", string devRoot = "/dev")
    {
        var found = new List<BoardCandidate>();
        string tty = Path.Combine(sysRoot, "class", "tty");
        if (!Directory.Exists(tty))
        {
            return found;
        }
        foreach (string entry in Directory.EnumerateFileSystemEntries(tty).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(entry);
            string device = Path.Combine(entry, "device");
            if (!Directory.Exists(device))
            {
                continue; // virtual terminals and ptys have no device
            }
            string? usb = UsbDeviceDir(device);
            if (usb is null)
            {
                continue; // a serial port, but not on USB
            }
            string vid = Read(usb, "idVendor") ?? "";
            string pid = Read(usb, "idProduct") ?? "";
            string product = Read(usb, "product") ?? (StLinkProducts.TryGetValue(pid, out string? p) ? p : "USB serial");
            string? manufacturer = Read(usb, "manufacturer");
            string detail = string.Create(CultureInfo.InvariantCulture, $"{vid}:{pid} {(manufacturer is null ? "" : manufacturer + " ")}{product}");
            bool stlink = vid.Equals(StLinkVendorId, StringComparison.OrdinalIgnoreCase);
            found.Add(new BoardCandidate(Path.Combine(devRoot, name), stlink ? "st-link" : "usb-serial", true, detail, vid, pid, Read(usb, "serial")));
        }
        return [.. found.OrderBy(c => c.IsStLink ? 0 : 1)];
    }

    /// <summary>The sim and QEMU boards, with whether this machine can start them.</summary>
    public static IReadOnlyList<BoardCandidate> PseudoBoards()
    {
        bool cmake = FirmwareBuilds.OnPath("cmake");
        bool cc = FirmwareBuilds.OnPath("cc") || FirmwareBuilds.OnPath("gcc");
        bool qemu = FirmwareBuilds.OnPath("qemu-system-arm");
        bool arm = FirmwareBuilds.OnPath("arm-none-eabi-gcc");
        string Missing(params (bool Ok, string Name)[] needs) => string.Join(", ", needs.Where(n => !n.Ok).Select(n => n.Name));
        string simMissing = Missing((cmake, "cmake"), (cc, "a C compiler"));
        string qemuMissing = Missing((cmake, "cmake"), (qemu, "qemu-system-arm"), (arm, "arm-none-eabi-gcc"));
        return
        [
            new BoardCandidate("sim", "sim", simMissing.Length == 0,
                simMissing.Length == 0 ? "device core built for this machine, behind a pty (timing in host ns)" : "needs " + simMissing),
            new BoardCandidate("qemu", "qemu", qemuMissing.Length == 0,
                qemuMissing.Length == 0 ? "device core on an emulated Cortex-M33 (mps2-an505; timing in instructions)" : "needs " + qemuMissing),
        ];
    }

    /// <summary>Every board: ST-LINK ports, other USB serial ports, then sim and QEMU. On Windows the COM ports, without USB ids.</summary>
    public static IReadOnlyList<BoardCandidate> All()
    {
        IReadOnlyList<BoardCandidate> ports = OperatingSystem.IsWindows()
            ? [.. System.IO.Ports.SerialPort.GetPortNames().Order(StringComparer.Ordinal).Select(p => new BoardCandidate(p, "serial", true, "serial port (USB ids not read on Windows)"))]
            : UsbSerialPorts();
        return [.. ports, .. PseudoBoards()];
    }

    /// <summary>From a tty's device (a USB interface for CDC-ACM ports) up to the USB device that holds idVendor.</summary>
    private static string? UsbDeviceDir(string device)
    {
        string? dir = Resolve(device);
        for (int depth = 0; dir is not null && depth < 6; depth++, dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "idVendor")))
            {
                return dir;
            }
        }
        return null;
    }

    /// <summary>
    /// The physical path, as realpath(3) gives it. sysfs links are relative ("../../../1-1:1.2") to the real folder
    /// of the link, and /sys/class/tty/NAME is itself a link, so each component is resolved in turn.
    /// </summary>
    internal static string? Resolve(string path, int depth = 0)
    {
        if (depth > 40)
        {
            return null; // a link loop
        }
        try
        {
            string full = Path.GetFullPath(path);
            string root = Path.GetPathRoot(full) ?? "/";
            string cur = root;
            foreach (string part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
            {
                string next = Path.Combine(cur, part);
                string? link = new FileInfo(next).LinkTarget;
                if (link is null)
                {
                    cur = next;
                    continue;
                }
                // cur is physical, so collapsing the link's leading ".." lexically is what the kernel does
                string? resolved = Resolve(Path.IsPathRooted(link) ? link : Path.Combine(cur, link), depth + 1);
                if (resolved is null)
                {
                    return null;
                }
                cur = resolved;
            }
            return cur;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? Read(string dir, string file)
    {
        try
        {
            string f = Path.Combine(dir, file);
            return File.Exists(f) ? File.ReadAllText(f).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
