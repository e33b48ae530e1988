namespace OrderStream.TestSupport;

public static class Concurrently
{
    /// <summary>Runs <paramref name="work"/> over <paramref name="items"/> with at most <paramref name="parallelism"/> in flight.</summary>
    public static async Task<TResult[]> ForAllAsync<T, TResult>(IEnumerable<T> items, int parallelism, Func<T, Task<TResult>> work)
    {
        using var gate = new SemaphoreSlim(parallelism);
        return await Task.WhenAll(items.Select(async item =>
        {
            await gate.WaitAsync();
            try { return await work(item); }
            finally { gate.Release(); }
        }));
    }
}
