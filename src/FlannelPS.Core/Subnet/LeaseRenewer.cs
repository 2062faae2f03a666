// flannel's renewal loop: sleep until Expiration − margin, renew (a fresh 24 h etcd lease), and on
// failure try again every minute. The own-key watch can hand in a rewritten lease, which moves the
// wake-up time. Reservations have no expiration and are never renewed. Time comes from TimeProvider.
using System.Globalization;
using FlannelPS.Core.Diagnostics;
using FlannelPS.Core.Errors;

namespace FlannelPS.Core.Subnet;

public sealed class LeaseRenewer
{
    public static readonly TimeSpan DefaultMargin = TimeSpan.FromMinutes(60);
    public static readonly TimeSpan MinMargin = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxMargin = TimeSpan.FromMinutes(1439);
    public static readonly TimeSpan RetryInterval = TimeSpan.FromMinutes(1);
    public const string InvalidMarginText = "Invalid subnet-lease-renew-margin option, out of acceptable range";

    private readonly SubnetManager _manager;
    private readonly TimeProvider _time;
    private readonly TimeSpan _margin;
    private readonly ILog _log;
    private readonly Lock _gate = new();
    private Lease _current;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LeaseRenewer(SubnetManager manager, Lease lease, TimeSpan renewMargin, TimeProvider time, ILog log)
    {
        ValidateMargin(renewMargin);
        _manager = manager;
        _current = lease;
        _margin = renewMargin;
        _time = time;
        _log = log;
    }

    /// <summary>Throws flannel's error unless 1 ≤ margin ≤ 1439 minutes.</summary>
    public static void ValidateMargin(TimeSpan margin)
    {
        if (margin < MinMargin || margin > MaxMargin)
            throw new FlannelException("FlannelInvalidRenewMargin", FlannelErrorCategory.InvalidArgument, InvalidMarginText, margin);
    }

    /// <summary>The lease as last renewed or handed in.</summary>
    public Lease Current { get { lock (_gate) return _current; } }

    /// <summary>Raised on the loop's task after each successful renewal.</summary>
    public event Action<Lease>? Renewed;

    /// <summary>
    /// Adopts the timing of a lease the own-key watch saw (someone rewrote the key): its expiration and
    /// etcd lease, so the sleep is recomputed. The attributes stay this node's, as in flannel: the next
    /// renewal writes back the node's own PublicIP and backend data, whatever the rewrite put there.
    /// </summary>
    public void Update(Lease lease)
    {
        TaskCompletionSource wake;
        lock (_gate)
        {
            _current = _current with { Expiration = lease.Expiration, EtcdLeaseId = lease.EtcdLeaseId, Revision = lease.Revision };
            wake = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        wake.TrySetResult();
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Lease lease;
            Task changed;
            lock (_gate) { lease = _current; changed = _changed.Task; }

            if (lease.IsReservation || lease.Expiration is null)
            {
                // Nothing to renew; wait until someone hands in a leased key.
                if (!await WaitAsync(Timeout.InfiniteTimeSpan, changed, cancellationToken).ConfigureAwait(false)) return;
                continue;
            }

            var delay = lease.Expiration.Value - _margin - _time.GetUtcNow();
            if (delay > TimeSpan.Zero)
            {
                _log.Info($"Waiting for {FormatDuration(delay)} to renew lease");
                var woke = await WaitAsync(delay, changed, cancellationToken).ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested) return;
                if (woke) continue; // a new lease came in: recompute
            }

            try
            {
                var renewed = await _manager.RenewLeaseAsync(lease, cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    // An Update that raced with the renewal describes an older write than ours.
                    _current = renewed;
                }
                _log.Info($"Lease renewed, new expiration: {FormatTime(renewed.Expiration)}");
                Renewed?.Invoke(renewed);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _log.Error($"Error renewing lease (trying again in 1 min): {ex.Message}");
                if (!await WaitAsync(RetryInterval, changed, cancellationToken).ConfigureAwait(false) && cancellationToken.IsCancellationRequested) return;
            }
        }
    }

    /// <summary>True when woken by <paramref name="changed"/>; false on timeout or cancellation.</summary>
    private async Task<bool> WaitAsync(TimeSpan delay, Task changed, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sleep = Task.Delay(delay, _time, cts.Token);
        var first = await Task.WhenAny(sleep, changed).ConfigureAwait(false);
        cts.Cancel(); // release the timer when woken early
        return first == changed;
    }

    // Go's time.Duration.String() shape ("22h59m59s"), as flannel logs it.
    internal static string FormatDuration(TimeSpan d)
    {
        if (d < TimeSpan.FromSeconds(1)) return ((long)d.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
        var h = (long)d.TotalHours;
        var text = h > 0 ? $"{h}h{d.Minutes}m" : d.Minutes > 0 ? $"{d.Minutes}m" : "";
        var seconds = d.Seconds + d.Milliseconds / 1000.0;
        return text + seconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
    }

    internal static string FormatTime(DateTimeOffset? t) =>
        t is null ? "never (reservation)" : t.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss '+0000 UTC'", CultureInfo.InvariantCulture);
}
