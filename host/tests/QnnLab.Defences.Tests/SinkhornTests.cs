using Microsoft.VisualStudio.TestTools.UnitTesting;
using QnnLab.Defences.Training;
using QnnLab.Torch;
using static TorchSharp.torch;

namespace QnnLab.Defences.Tests;

[TestClass]
public sealed class SinkhornTests
{
    [TestInitialize]
    public void Load() => TorchRuntime.EnsureLoaded();

    /// <summary>Plain (not log-domain) Sinkhorn scaling in doubles, run to convergence: the reference.</summary>
    private static double Reference(double[,] x, double[,] y, double eps)
    {
        int n = x.GetLength(0), m = y.GetLength(0), d = x.GetLength(1);
        var c = new double[n, m];
        var k = new double[n, m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int t = 0; t < d; t++)
                {
                    s += (x[i, t] - y[j, t]) * (x[i, t] - y[j, t]);
                }
                c[i, j] = s;
                k[i, j] = Math.Exp(-s / eps);
            }
        }
        double[] u = [.. Enumerable.Repeat(1.0, n)], v = [.. Enumerable.Repeat(1.0, m)];
        for (int it = 0; it < 5000; it++)
        {
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int j = 0; j < m; j++)
                {
                    s += k[i, j] * v[j];
                }
                u[i] = 1.0 / n / s;
            }
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int i = 0; i < n; i++)
                {
                    s += k[i, j] * u[i];
                }
                v[j] = 1.0 / m / s;
            }
        }
        double cost = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                cost += u[i] * k[i, j] * v[j] * c[i, j];
            }
        }
        return cost;
    }

    private static Tensor T(double[,] a) => tensor(a.Cast<double>().Select(v => (float)v).ToArray(), [a.GetLength(0), a.GetLength(1)]);

    /// <summary>
    /// One point each: the only plan moves all the mass, so the cost is the squared distance (3^2 + 4^2 = 25) and the
    /// divergence too (a point against itself costs 0).
    /// </summary>
    [TestMethod]
    public void SinglePoints_CostTheSquaredDistance()
    {
        using var scope = NewDisposeScope();
        Tensor x = tensor(new float[] { 1, 2 }, [1, 2]), y = tensor(new float[] { 4, 6 }, [1, 2]);
        Assert.AreEqual(25.0, Sinkhorn.Distance(x, y).item<float>(), 1e-4);
        Assert.AreEqual(25.0, Sinkhorn.Divergence(x, y).item<float>(), 1e-4);
    }

    /// <summary>Two and three points in 2-D at eps 1 and 0.5, run to convergence: equal to the plain scaling iteration in doubles.</summary>
    [TestMethod]
    [DataRow(1.0)]
    [DataRow(0.5)]
    public void SmallClouds_MatchPlainSinkhornScaling(double eps)
    {
        using var scope = NewDisposeScope();
        double[,] x = { { 0, 0 }, { 1, 0 } };
        double[,] y = { { 0, 1 }, { 2, 0 }, { 0.5, 0.5 } };
        double expected = Reference(x, y, eps);
        double got = Sinkhorn.Distance(T(x), T(y), eps, maxIter: 2000, threshold: 0).item<float>();
        Assert.AreEqual(expected, got, 1e-5 * Math.Max(1, expected));
        double div = Sinkhorn.Divergence(T(x), T(y), eps, maxIter: 2000, threshold: 0).item<float>();
        double expectedDiv = expected - (0.5 * (Reference(x, x, eps) + Reference(y, y, eps)));
        Assert.AreEqual(expectedDiv, div, 1e-5 * Math.Max(1, Math.Abs(expectedDiv)));
        Assert.IsGreaterThan(0.1, div, "separated clouds are far apart");
    }

    /// <summary>
    /// Softmax outputs of a batch against themselves: divergence 0; against a slightly moved copy: near 0; against
    /// another batch: clearly more (the script's settings: eps 1, 50 iterations, sum, stop at 0.1). Gradients reach both sides.
    /// </summary>
    [TestMethod]
    public void IdenticalBatches_HaveZeroDivergence()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        Tensor p = nn.functional.softmax(randn([16, 10], generator: g).mul(3), -1);
        Tensor q = nn.functional.softmax(randn([16, 10], generator: g).mul(3), -1);
        Assert.AreEqual(0.0, Sinkhorn.Divergence(p, p).item<float>(), 1e-6);
        Tensor near = nn.functional.softmax(p.log().add(randn([16, 10], generator: g).mul(1e-3)), -1);
        double small = Sinkhorn.Divergence(p, near).item<float>();
        double far = Sinkhorn.Divergence(p, q).item<float>();
        Assert.IsLessThan(1e-4, Math.Abs(small));
        Assert.IsGreaterThan(100 * Math.Max(Math.Abs(small), 1e-7), far);
        Tensor a = q.detach().requires_grad_(true);
        Sinkhorn.Divergence(p, a).backward();
        Assert.IsGreaterThan(0, a.grad!.abs().sum().item<float>(), "differentiable through the iterations");
    }
}
