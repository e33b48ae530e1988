using System.Security.Claims;

namespace OrderStream.Hosting.Identity;

/// <summary>
/// The roles a token carries in its multi-valued <c>roles</c> claim, and the authorization policies of the
/// same names that every service registers (<c>.RequireAuthorization(Roles.Seller)</c>).
/// </summary>
public static class Roles
{
    /// <summary>Places orders as themselves; reads, lists and cancels only their own.</summary>
    public const string Customer = "customer";

    /// <summary>Stock (and, with the catalogue, prices); reads every order and ships confirmed ones.</summary>
    public const string Seller = "seller";

    /// <summary>Every operator control under <c>/admin</c>, and read access to any order.</summary>
    public const string Admin = "admin";

    /// <summary>A policy, not a role: a customer (their own orders) or an admin (any order).</summary>
    public const string CustomerOrAdmin = "customer-or-admin";

    /// <summary>A policy, not a role: who reads orders. A customer their own; a seller (who ships them) and an admin any.</summary>
    public const string OrderReader = "order-reader";

    public static readonly IReadOnlyList<string> All = [Customer, Seller, Admin];

    /// <summary>The token's <c>sub</c>: the user the caller is (the name claim, so logs and <c>User.Identity.Name</c> show it).</summary>
    public static string? UserId(this ClaimsPrincipal user) => user.FindFirst(IdentityDefaults.SubjectClaim)?.Value;

    /// <summary>Whether the caller may see orders of users other than themselves: an admin, or a seller (who ships them).</summary>
    public static bool SeesEveryOrder(this ClaimsPrincipal user) => user.IsInRole(Admin) || user.IsInRole(Seller);

    /// <summary>Whether the caller may see an order of <paramref name="owner"/>: its owner, a seller or an admin.</summary>
    public static bool MaySee(this ClaimsPrincipal user, string? owner) =>
        user.SeesEveryOrder() || (owner is not null && user.IsInRole(Customer) && owner == user.UserId());
}
