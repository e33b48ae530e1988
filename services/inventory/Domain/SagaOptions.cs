using System.ComponentModel.DataAnnotations;

namespace OrderStream.Inventory.Domain;

/// <summary>The saga deadline, bound from <c>Saga</c> (<c>Saga__Deadline=00:03:00</c>, <c>Saga__ScanInterval</c>, <c>Saga__BatchSize</c>).</summary>
public sealed class SagaOptions
{
    public const string Section = "Saga";

    /// <summary>How long a reservation may wait for its payment result before it is released and the order fails with SAGA_TIMEOUT.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How often reservations past the deadline are looked for (a release lands up to this late).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Orders looked at per query; a full batch is followed at once by the next.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;
}
