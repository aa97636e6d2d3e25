namespace QnnLab.Nano;

/// <summary>The selected model as the executor describes it (<c>qnn_model_desc_t</c>), read by <see cref="QnnDevice.GetModelInfo"/>.</summary>
public sealed class QnnModelInfo
{
    /// <summary>Number of ints the native call fills; also the order of the fields below.</summary>
    internal const int FieldCount = 7;

    internal QnnModelInfo(int[] fields)
    {
        Height = fields[0];
        Width = fields[1];
        Channels = fields[2];
        OutputCount = fields[3];
        ActivationBits = fields[4] == 2 ? 16 : 8;
        InputElementBytes = fields[5];
        BlobBytes = fields[6];
    }

    /// <summary>Input height in pixels.</summary>
    public int Height { get; }

    /// <summary>Input width in pixels.</summary>
    public int Width { get; }

    /// <summary>Input channels (3 for RGB).</summary>
    public int Channels { get; }

    /// <summary>Pixels one inference takes (height x width x channels, one byte each).</summary>
    public int InputBytes
    {
        get { return Height * Width * Channels; }
    }

    /// <summary>Number of logits (classes) one inference produces.</summary>
    public int OutputCount { get; }

    /// <summary>Activation width: 8 for int8 models, 16 for 16x8 models.</summary>
    public int ActivationBits { get; }

    /// <summary>Bytes per element of the model's quantized input tensor (1 or 2).</summary>
    public int InputElementBytes { get; }

    /// <summary>Size of the model blob in bytes.</summary>
    public int BlobBytes { get; }
}
