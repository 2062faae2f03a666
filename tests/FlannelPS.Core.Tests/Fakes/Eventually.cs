// Polls a condition with a hard time bound: for tests whose work runs on other tasks.
namespace FlannelPS.Core.Tests.Fakes;

public static class Eventually
{
    /// <summary>The blocking form, for tests that run on a dedicated (namespace) thread.</summary>
    public static void True(Func<bool> condition, string what, int timeoutMs = 5000)
    {
        var start = Environment.TickCount64;
        while (!condition())
        {
            if (Environment.TickCount64 - start > timeoutMs) throw new Xunit.Sdk.XunitException($"Timed out after {timeoutMs} ms waiting for: {what}");
            Thread.Sleep(10);
        }
    }

    public static async Task TrueAsync(Func<bool> condition, string what, int timeoutMs = 5000)
    {
        var start = Environment.TickCount64;
        while (!condition())
        {
            if (Environment.TickCount64 - start > timeoutMs) throw new Xunit.Sdk.XunitException($"Timed out after {timeoutMs} ms waiting for: {what}");
            await Task.Delay(10);
        }
    }
}
