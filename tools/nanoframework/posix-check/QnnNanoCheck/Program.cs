using System;
using System.Diagnostics;
using System.Reflection;
using QnnLab.Nano;

[assembly: AssemblyVersion("1.0.0.0")]

namespace QnnNanoCheck
{
    /// <summary>
    /// Calls every QnnLab.Nano method on nanoCLR (posix host build) and prints what came back, prefixed QNNCHECK;
    /// check.sh compares the logits with the host engine's (Data.cs, from make_data.py). Debug.WriteLine is
    /// [Conditional("DEBUG")]: build this in Debug.
    /// </summary>
    public static class Program
    {
        public static void Main()
        {
            Debug.WriteLine("QNNCHECK start");
            QnnDevice.Initialize();
            try
            {
                QnnDevice.GetModelInfo();
                Debug.WriteLine("QNNCHECK info-before-select: no exception (WRONG)");
            }
            catch (InvalidOperationException e)
            {
                Debug.WriteLine("QNNCHECK info-before-select: " + e.Message);
            }
            QnnDevice.SelectModelAt(0x08050000, Data.BlobLength);
            QnnModelInfo info = QnnDevice.GetModelInfo();
            Debug.WriteLine("QNNCHECK model " + info.Height.ToString() + "x" + info.Width.ToString() + "x" + info.Channels.ToString() + " outputs " + info.OutputCount.ToString() + " blob " + info.BlobBytes.ToString());
            int[] logits = new int[10];
            int label = QnnDevice.Infer(Data.Image, logits);
            string s = "";
            bool same = true;
            for (int i = 0; i < 10; i++)
            {
                s += logits[i].ToString() + " ";
                same &= logits[i] == Data.Expected[i];
            }
            Debug.WriteLine("QNNCHECK infer label " + label.ToString() + " logits " + s + (same ? "EQUAL to the host engine" : "DIFFER from the host engine"));
            uint[] cycles = new uint[QnnStage.Count];
            QnnDevice.ReadStageCycles(cycles);
            string stages = "";
            for (int i = 0; i < QnnStage.Total; i++)
            {
                stages += cycles[i].ToString() + " ";
            }
            Debug.WriteLine("QNNCHECK stage ns " + stages + "total " + cycles[QnnStage.Total].ToString());
            QnnDevice.ConfigureSqueezing(1, 2, 1000000f);
            QnnDevice.Infer(Data.Image, logits);
            Debug.WriteLine("QNNCHECK detector score " + QnnDevice.LastDetectorScore.ToString());
            QnnDevice.ConfigureSqueezing(0, 0, 0f);
            try
            {
                QnnDevice.Infer(new byte[100], logits);
                Debug.WriteLine("QNNCHECK wrong size: no exception (WRONG)");
            }
            catch (InvalidOperationException e)
            {
                Debug.WriteLine("QNNCHECK wrong size: " + e.Message);
            }
            byte[] tx = new byte[512];
            int boot = QnnDevice.ProtocolPoll(tx);
            int fed = QnnDevice.ProtocolFeed(Data.InfoRequest, Data.InfoRequest.Length);
            int n = QnnDevice.ProtocolPoll(tx);
            string hex = "";
            for (int i = 0; i < n; i++)
            {
                hex += tx[i].ToString("x2");
            }
            Debug.WriteLine("QNNCHECK protocol boot " + boot.ToString() + " bytes, fed " + fed.ToString() + ", answer " + hex);
            Debug.WriteLine("QNNCHECK cycle counter " + QnnDevice.CycleCounter.ToString());
            Debug.WriteLine("QNNCHECK done");
        }
    }
}
