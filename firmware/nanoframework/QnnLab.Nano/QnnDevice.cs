using System;
using System.Runtime.CompilerServices;

namespace QnnLab.Nano;

/// <summary>
/// The QNN device core (C11: executor, CMSIS-NN kernels, Feature Squeezing, serial protocol engine)
/// as seen from C# on nanoCLR. Every method ends in a native function of the interop assembly
/// (firmware/nanoframework/interop); the public wrappers check arguments in C# and turn the core's
/// status codes into exceptions, so the natives stay thin and never throw for core errors.
/// </summary>
/// <remarks>
/// The device core is a single instance with static state, hence a static class. It is not
/// thread-safe: call it from one thread (the app's pump loop).
/// </remarks>
public static class QnnDevice
{
    /// <summary>Largest Feature Squeezing median window the device core supports (a side of the square).</summary>
    public const int MaxMedianSize = 7;

    /// <summary>Largest detector threshold: the core holds its score as a 32-bit integer (output steps).</summary>
    public const float MaxThreshold = 2147483520f;

    /// <summary>Initializes the device core (cycle counter, protocol engine, no model). Call once at start-up.</summary>
    /// <remarks>Also queues the protocol's BOOT frame, so the host learns of the (re)start once the app pumps the port.</remarks>
    /// <exception cref="InvalidOperationException">The core failed to start; the message carries its status code.</exception>
    public static void Initialize()
    {
        Check(NativeInitialize(), "initialize");
    }

    /// <summary>
    /// Stores a model blob in the board's upload area (as the protocol's UPLOAD does) and selects it.
    /// </summary>
    /// <param name="blob">The blob, as the host exports it; must fit the board's upload area.</param>
    /// <exception cref="ArgumentNullException"><paramref name="blob"/> is null.</exception>
    /// <exception cref="ArgumentException">The blob is empty.</exception>
    /// <exception cref="InvalidOperationException">The core rejected the blob (status code in the message).</exception>
    public static void LoadModel(byte[] blob)
    {
        if (blob == null)
        {
            throw new ArgumentNullException(nameof(blob));
        }
        if (blob.Length == 0)
        {
            throw new ArgumentException("empty model blob", nameof(blob));
        }
        Check(NativeLoadModel(blob, blob.Length), "load model");
    }

    /// <summary>
    /// Selects the model whose blob is stored in flash at <paramref name="address"/> (the board's model
    /// region, flashed with the nanoCLR image): the interop hashes those bytes (SHA-256) and selects the
    /// model with that hash among those the board lists. Weights stay in flash; only the arena is in RAM.
    /// </summary>
    /// <param name="address">Flash address of the blob's first byte (the board's model region, see the target's README).</param>
    /// <param name="length">Blob size in bytes.</param>
    /// <exception cref="ArgumentException">The length is not positive.</exception>
    /// <exception cref="InvalidOperationException">No valid blob there (status code in the message).</exception>
    public static void SelectModelAt(uint address, int length)
    {
        if (length <= 0)
        {
            throw new ArgumentException("blob length must be positive", nameof(length));
        }
        Check(NativeSelectModelAt(address, length), "select model in flash");
    }

    /// <summary>Reads the shape facts of the active model.</summary>
    /// <returns>A new <see cref="QnnModelInfo"/>.</returns>
    /// <exception cref="InvalidOperationException">No model is active.</exception>
    public static QnnModelInfo GetModelInfo()
    {
        int[] fields = new int[QnnModelInfo.FieldCount];
        Check(NativeGetModelInfo(fields), "read model info");
        return new QnnModelInfo(fields);
    }

    /// <summary>
    /// Runs the active model (and, when configured, Feature Squeezing) on one image.
    /// </summary>
    /// <param name="pixels">Raw 8-bit pixels in the model's HWC order; quantized on the device as the model's input expects.</param>
    /// <param name="logits">Receives the raw quantized outputs (int8 or int16 values widened to int); at least the model's output count long.</param>
    /// <returns>The predicted class: the index of the largest logit, the lowest index on ties.</returns>
    /// <exception cref="ArgumentNullException">A buffer is null.</exception>
    /// <exception cref="InvalidOperationException">No model, the pixel count is not the model's input size, or
    /// <paramref name="logits"/> is shorter than the model's output count (status code in the message; nothing ran).</exception>
    public static int Infer(byte[] pixels, int[] logits)
    {
        if (pixels == null)
        {
            throw new ArgumentNullException(nameof(pixels));
        }
        if (logits == null)
        {
            throw new ArgumentNullException(nameof(logits));
        }
        int label = NativeInfer(pixels, pixels.Length, logits);
        Check(label, "infer");
        return label;
    }

    /// <summary>
    /// Configures on-device Feature Squeezing (Xu et al.): bit-depth reduction or median smoothing, and the
    /// detector that flags an input when the largest L1 distance between the model's output on the original and
    /// on each configured squeezed input exceeds a threshold.
    /// </summary>
    /// <remarks>
    /// Without the detector the device core runs one squeezer per inference: configure bit depth or median, not
    /// both (the core refuses both with <see cref="QnnStatus.NotSupported"/>). With the detector both may be on;
    /// the label and logits then come from the original input (shared/protocol/SPEC.md, SET_SQUEEZE).
    /// </remarks>
    /// <param name="bitDepth">Bits kept per pixel, 1..7; 0 turns bit-depth squeezing off.</param>
    /// <param name="medianSize">Median window side, 2..<see cref="MaxMedianSize"/>; 0 turns it off (scipy's conventions for even windows).</param>
    /// <param name="threshold">
    /// Detector threshold in the device's score unit: the L1 distance between raw quantized outputs, in steps of
    /// the output scale (for an int8 softmax with scale 1/256, EvadeML's real-valued threshold t is t * 256). The
    /// core compares the integer part. 0 turns the detector off.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    /// <exception cref="ArgumentException">The detector is on but neither squeezer is.</exception>
    /// <exception cref="InvalidOperationException">The core refused the configuration (status code in the message).</exception>
    public static void ConfigureSqueezing(int bitDepth, int medianSize, float threshold)
    {
        if (bitDepth < 0 || bitDepth > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(bitDepth));
        }
        if (medianSize == 1 || medianSize < 0 || medianSize > MaxMedianSize)
        {
            throw new ArgumentOutOfRangeException(nameof(medianSize));
        }
        // NaN fails every comparison, so test the accepted range rather than the rejected one.
        if (!(threshold >= 0f && threshold <= MaxThreshold))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold));
        }
        if (threshold > 0f && bitDepth == 0 && medianSize == 0)
        {
            throw new ArgumentException("the detector compares against a squeezed input: enable bit depth or median", nameof(threshold));
        }
        Check(NativeConfigureSqueezing(bitDepth, medianSize, threshold), "configure squeezing");
    }

    /// <summary>
    /// The detector score of the last <see cref="Infer"/>: the largest L1 distance between the raw quantized outputs
    /// of the original and of a squeezed input, in output quantization steps; 0 when the detector is off.
    /// </summary>
    public static float LastDetectorScore
    {
        get { return NativeLastDetectorScore(); }
    }

    /// <summary>The free-running cycle counter the core times with (<c>qnn_platform_cycles</c>: DWT, wraps every 2^32 cycles, ~39 s at 110 MHz).</summary>
    public static uint CycleCounter
    {
        get { return NativeCycleCounter(); }
    }

    /// <summary>Copies the cycle counts of the last <see cref="Infer"/>, one per <see cref="QnnStage"/> index (truncated to 32 bits).</summary>
    /// <param name="cycles">Receives the counts; at least <see cref="QnnStage.Count"/> long.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cycles"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="cycles"/> is too short.</exception>
    public static void ReadStageCycles(uint[] cycles)
    {
        if (cycles == null)
        {
            throw new ArgumentNullException(nameof(cycles));
        }
        if (cycles.Length < QnnStage.Count)
        {
            throw new ArgumentException("needs " + QnnStage.Count.ToString() + " entries", nameof(cycles));
        }
        Check(NativeReadStageCycles(cycles), "read stage cycles");
    }

    /// <summary>
    /// Hands received serial bytes to the device core's protocol engine (frames, CRC, resumption all
    /// live there). The engine may take fewer bytes than offered when its input buffer is full.
    /// </summary>
    /// <param name="rx">Buffer holding the bytes, starting at index 0.</param>
    /// <param name="count">Number of valid bytes in <paramref name="rx"/>.</param>
    /// <returns>Bytes the engine consumed, 0..count.</returns>
    /// <exception cref="ArgumentException"><paramref name="count"/> is outside the buffer.</exception>
    /// <exception cref="InvalidOperationException">The engine failed (status code in the message).</exception>
    public static int ProtocolFeed(byte[] rx, int count)
    {
        if (rx == null)
        {
            throw new ArgumentNullException(nameof(rx));
        }
        if (count < 0 || count > rx.Length)
        {
            throw new ArgumentException("count outside the buffer", nameof(count));
        }
        int consumed = NativeProtocolFeed(rx, count);
        Check(consumed, "protocol feed");
        return consumed;
    }

    /// <summary>Takes bytes the protocol engine wants sent (responses, acknowledgements).</summary>
    /// <param name="tx">Buffer to fill from index 0.</param>
    /// <returns>Bytes written into <paramref name="tx"/>; 0 when the engine has nothing to send.</returns>
    /// <exception cref="InvalidOperationException">The engine failed (status code in the message).</exception>
    public static int ProtocolPoll(byte[] tx)
    {
        if (tx == null)
        {
            throw new ArgumentNullException(nameof(tx));
        }
        int produced = NativeProtocolPoll(tx);
        Check(produced, "protocol poll");
        return produced;
    }

    private static void Check(int status, string operation)
    {
        if (status < QnnStatus.Ok)
        {
            // nanoFramework's exceptions carry no code property: the code goes into the message, parseable after "QNN".
            throw new InvalidOperationException("QNN " + status.ToString() + ": " + operation + " failed (" + QnnStatus.Describe(status) + ")");
        }
    }

    // The native side: one C++ function each in the interop (Library_QnnLab_Nano_QnnLab_Nano_QnnDevice::...).
    // Signatures use only primitives and one-dimensional arrays so the marshalling stays mechanical.

    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern int NativeInitialize();

    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern int NativeLoadModel(byte[] blob, int length);

    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern int NativeSelectModelAt(uint address, int length);

    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern int NativeGetModelInfo(int[] fields);

    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern int NativeInfer(byte[] pixels, int count, int[] logits);

    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern int NativeConfigureSqueezing(int bitDepth, int medianSize, float threshold);

    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern float NativeLastDetectorScore();

    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern uint NativeCycleCounter();

    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern int NativeReadStageCycles(uint[] cycles);

    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern int NativeProtocolFeed(byte[] rx, int count);

    [MethodImpl(MethodImplOptions.InternalCall)]
    private static extern int NativeProtocolPoll(byte[] tx);
}
