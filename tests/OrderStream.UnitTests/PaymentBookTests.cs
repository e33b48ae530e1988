using OrderStream.Contracts;
using OrderStream.Payment.Domain;

namespace OrderStream.UnitTests;

public class PaymentBookTests
{
    private static PaymentRecord Payment(Guid orderId, string status) => new(orderId, Guid.NewGuid(), status, 10.50m, "EUR", null);

    [Fact]
    public void An_order_is_decided_once_and_not_at_all_once_closed()
    {
        var (fresh, decided, closed) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var book = new PaymentBook([Payment(decided, PaymentStatus.Declined)], [closed]);

        Assert.True(book.AwaitsDecision(fresh));
        Assert.False(book.AwaitsDecision(decided));
        Assert.False(book.AwaitsDecision(closed));

        book.Decide(Payment(fresh, PaymentStatus.Authorized));
        Assert.False(book.AwaitsDecision(fresh)); // a second reservation event later in the same batch
        Assert.Throws<InvalidOperationException>(() => book.Decide(Payment(fresh, PaymentStatus.Authorized)));
        Assert.Throws<InvalidOperationException>(() => book.Decide(Payment(closed, PaymentStatus.Authorized)));

        var changes = book.Changes();
        Assert.Equal([fresh], changes.Decided.Select(p => p.OrderId));
        Assert.Empty(changes.Moved);
        Assert.Empty(changes.Closed);
    }

    [Fact]
    public void A_release_before_the_decision_closes_the_order_once()
    {
        var order = Guid.NewGuid();
        var book = new PaymentBook([], []);

        book.Close(order, FailureReasons.SagaTimeout);
        book.Close(order, FailureReasons.Cancelled); // a redelivered release: already closed
        Assert.False(book.AwaitsDecision(order));

        Assert.Equal([(order, FailureReasons.SagaTimeout)], book.Changes().Closed);
        Assert.Empty(book.Changes().Decided);
    }

    [Fact]
    public void Only_an_authorized_payment_moves_and_only_once()
    {
        var (held, declined) = (Guid.NewGuid(), Guid.NewGuid());
        var book = new PaymentBook([Payment(held, PaymentStatus.Authorized), Payment(declined, PaymentStatus.Declined)], []);

        var voided = book.MoveFromAuthorized(held, PaymentStatus.Voided, FailureReasons.Cancelled);
        Assert.Equal((PaymentStatus.Voided, FailureReasons.Cancelled, 10.50m, "EUR"), (voided.Status, voided.Reason, voided.Amount, voided.Currency));
        Assert.Throws<InvalidOperationException>(() => book.MoveFromAuthorized(held, PaymentStatus.Refunded, FailureReasons.Cancelled));
        Assert.Throws<InvalidOperationException>(() => book.MoveFromAuthorized(declined, PaymentStatus.Voided, FailureReasons.Cancelled));
        Assert.Throws<InvalidOperationException>(() => book.Close(held, FailureReasons.Cancelled));

        var changes = book.Changes();
        Assert.Equal([voided], changes.Moved);
        Assert.Empty(changes.Decided);
    }

    [Fact]
    public void An_order_decided_and_voided_in_one_batch_is_written_once_in_its_final_state()
    {
        var order = Guid.NewGuid();
        var book = new PaymentBook([], []);

        book.Decide(Payment(order, PaymentStatus.Authorized));
        book.MoveFromAuthorized(order, PaymentStatus.Voided, FailureReasons.SagaTimeout);

        var changes = book.Changes();
        Assert.Equal([(order, PaymentStatus.Voided, FailureReasons.SagaTimeout)], changes.Decided.Select(p => (p.OrderId, p.Status, p.Reason)));
        Assert.Empty(changes.Moved);
    }
}
