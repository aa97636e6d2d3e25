using QnnLab.Hil;
using QnnLab.TestSupport;

namespace QnnLab.Hil.Tests;

/// <summary>`board list` reads sysfs the way the kernel lays it out: relative symbolic links up to the USB device.</summary>
[TestClass]
public sealed class BoardDiscoveryTests
{
    /// <summary>
    /// A fake /sys: class/tty/NAME links into devices/, and NAME/device links (relative to the real folder) to the
    /// USB interface whose parent holds idVendor/idProduct, as on a Linux machine with a NUCLEO plugged in.
    /// </summary>
    private static string FakeSysfs()
    {
        string sys = TestData.TempDir();
        string usb = Path.Combine(sys, "devices", "pci0000:00", "0000:00:14.0", "usb1");
        void UsbTty(string port, string tty, string vid, string pid, string? product, string? serial, bool acm)
        {
            string dev = Path.Combine(usb, port);
            string iface = Path.Combine(dev, port + ":1.2");
            // ttyACM sits under the interface; ttyUSB (FTDI) under interface/ttyUSBn
            string parent = acm ? iface : Path.Combine(iface, tty);
            string ttyDir = Path.Combine(parent, "tty", tty);
            Directory.CreateDirectory(ttyDir);
            File.WriteAllText(Path.Combine(dev, "idVendor"), vid + "\n");
            File.WriteAllText(Path.Combine(dev, "idProduct"), pid + "\n");
            if (product is not null)
            {
                File.WriteAllText(Path.Combine(dev, "product"), product + "\n");
            }
            if (serial is not null)
            {
                File.WriteAllText(Path.Combine(dev, "serial"), serial + "\n");
            }
            File.CreateSymbolicLink(Path.Combine(ttyDir, "device"), acm ? "../../../" + port + ":1.2" : "../../../" + tty);
            Directory.CreateDirectory(Path.Combine(sys, "class", "tty"));
            File.CreateSymbolicLink(Path.Combine(sys, "class", "tty", tty), Path.GetRelativePath(Path.Combine(sys, "class", "tty"), ttyDir));
        }
        UsbTty("1-2", "ttyUSB0", "0403", "6001", "FT232R USB UART", "A50285BI", acm: false);
        UsbTty("1-1", "ttyACM0", "0483", "374e", "STLINK-V3", "0030003A3233510E33353533", acm: true);
        UsbTty("1-3", "ttyACM1", "0483", "3752", null, null, acm: true);
        // a virtual console: a tty with no device link
        Directory.CreateDirectory(Path.Combine(sys, "devices", "virtual", "tty", "tty1"));
        File.CreateSymbolicLink(Path.Combine(sys, "class", "tty", "tty1"), "../../devices/virtual/tty/tty1");
        // a built-in UART: a device, but not on USB
        string platform = Path.Combine(sys, "devices", "platform", "serial8250");
        Directory.CreateDirectory(Path.Combine(platform, "tty", "ttyS0"));
        File.CreateSymbolicLink(Path.Combine(platform, "tty", "ttyS0", "device"), "../../../serial8250");
        File.CreateSymbolicLink(Path.Combine(sys, "class", "tty", "ttyS0"), "../../devices/platform/serial8250/tty/ttyS0");
        return sys;
    }

    [TestMethod]
    public void UsbSerialPorts_ListsStLinkFirstWithTheirUsbIds_AndSkipsNonUsbTtys()
    {
        IReadOnlyList<BoardCandidate> ports = BoardDiscovery.UsbSerialPorts(FakeSysfs(), "/dev");
        CollectionAssert.AreEqual(new[] { "/dev/ttyACM0", "/dev/ttyACM1", "/dev/ttyUSB0" }, ports.Select(p => p.Board).ToArray());
        CollectionAssert.AreEqual(new[] { true, true, false }, ports.Select(p => p.IsStLink).ToArray());
        BoardCandidate nucleo = ports[0];
        Assert.AreEqual("0483", nucleo.VendorId);
        Assert.AreEqual("374e", nucleo.ProductId);
        Assert.AreEqual("0030003A3233510E33353533", nucleo.Serial);
        Assert.AreEqual("st-link", nucleo.Kind);
        StringAssert.Contains(ports[1].Detail, "ST-LINK/V2-1", "a product name from the id table when the device gives none");
        Assert.AreEqual("usb-serial", ports[2].Kind);
        Assert.AreEqual("6001", ports[2].ProductId);
    }

    [TestMethod]
    public void UsbSerialPorts_WithoutSysfs_IsEmpty()
    {
        Assert.AreEqual(0, BoardDiscovery.UsbSerialPorts(Path.Combine(TestData.TempDir(), "no-sys")).Count);
    }

    [TestMethod]
    public void Resolve_FollowsRelativeLinksFromTheirRealFolder()
    {
        string sys = FakeSysfs();
        string? real = BoardDiscovery.Resolve(Path.Combine(sys, "class", "tty", "ttyACM0", "device"));
        Assert.AreEqual(Path.Combine(sys, "devices", "pci0000:00", "0000:00:14.0", "usb1", "1-1", "1-1:1.2"), real);
    }

    [TestMethod]
    public void PseudoBoards_AreSimAndQemu()
    {
        CollectionAssert.AreEqual(new[] { "sim", "qemu" }, BoardDiscovery.PseudoBoards().Select(b => b.Board).ToArray());
    }
}
