namespace QnnLab.Nano;

/// <summary>Shape facts of the model the device core has loaded, as read by <see cref="QnnDevice.GetModelInfo"/>.</summary>
public sealed class QnnModelInfo
{
    /// <summary>Number of ints the native call fills; also the order of the fields below.</summary>
    internal const int FieldCount = 6;

    internal QnnModelInfo(int[] fields)
    {
        InputBytes = fields[0];
        OutputCount = fields[1];
        ActivationBits = fields[2];
        OperatorCount = fields[3];
        ArenaBytes = fields[4];
        BlobBytes = fields[5];
    }

    /// <summary>Pixels one inference takes (height x width x channels, one byte each).</summary>
    public int InputBytes { get; }

    /// <summary>Number of logits (classes) one inference produces.</summary>
    public int OutputCount { get; }

    /// <summary>Activation width: 8 for int8 models, 16 for 16x8 models.</summary>
    public int ActivationBits { get; }

    /// <summary>Operators in the model's execution plan.</summary>
    public int OperatorCount { get; }

    /// <summary>Tensor arena bytes the model needs.</summary>
    public int ArenaBytes { get; }

    /// <summary>Size of the model blob in bytes.</summary>
    public int BlobBytes { get; }
}
