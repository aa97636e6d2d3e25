namespace QnnLab.Model;

/// <summary>A model file or graph we cannot use; the message names the file/operator and the problem.</summary>
public sealed class ModelException : Exception
{
    public ModelException(string message) : base(message) { }
    public ModelException(string message, Exception inner) : base(message, inner) { }
}
